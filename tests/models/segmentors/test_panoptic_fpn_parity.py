"""Our Panoptic FPN equals mmdet's PanopticFPN: keys, losses, predictions."""
import copy
import os.path as osp

import mmdet
import numpy as np
import pytest
import torch
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config
from mmengine.registry import DefaultScope

from panoptic_zoo.registry import MODELS
from panoptic_zoo.testing import config_path

MMDET_CONFIG = osp.join(
    osp.dirname(mmdet.__file__), '.mim', 'configs', 'panoptic_fpn',
    'panoptic-fpn_r50_fpn_1x_coco.py')


def _model_cfg(path):
    cfg = Config.fromfile(path).model
    cfg.backbone.init_cfg = None
    return cfg


@pytest.fixture(scope='module')
def models():
    from mmdet.registry import MODELS as MMDET_MODELS
    torch.manual_seed(0)
    # mmdet's model with mmdet's parts (our scope resolves RPNHead,
    # PanopticFPNHead and HeuristicFusionHead to the contract adapters).
    with DefaultScope.overwrite_default_scope('mmdet'):
        ref = MMDET_MODELS.build(_model_cfg(MMDET_CONFIG))
    assert type(ref.panoptic_fusion_head).__module__.startswith('mmdet.')
    ours = MODELS.build(
        _model_cfg(config_path('panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco.py')))
    # mmdet checkpoints load unchanged: strict load of mmdet's weights.
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ref, ours


def _batch(seed):
    np.random.seed(seed)
    return demo_mm_inputs(
        batch_size=2,
        image_shapes=[(3, 128, 160), (3, 96, 128)],
        num_items=[3, 5],
        num_classes=80,
        with_mask=True,
        with_semantic=True)


def test_state_dict_keys_equal(models):
    ref, ours = models
    assert list(ref.state_dict()) == list(ours.state_dict())
    assert type(ours).__name__ == 'PanopticSegmentor'


def test_same_losses(models):
    ref, ours = models
    results = []
    for model in (ref, ours):
        model.train()
        data = model.data_preprocessor(copy.deepcopy(_batch(1)), True)
        torch.manual_seed(7)  # the RPN/RoI samplers draw random indices
        np.random.seed(7)
        results.append(model(**data, mode='loss'))
    ref_losses, our_losses = results
    assert set(ref_losses) == set(our_losses)
    assert 'loss_seg' in our_losses and 'loss_mask' in our_losses
    for key, value in ref_losses.items():
        value = value if isinstance(value, list) else [value]
        other = our_losses[key]
        other = other if isinstance(other, list) else [other]
        for a, b in zip(value, other):
            torch.testing.assert_close(a, b, rtol=0, atol=0, msg=key)


def test_same_panoptic_prediction(models):
    ref, ours = models
    # mmdet's PanopticFPN built in our scope gets the contract adapters in
    # its slots (same names); they answer mmdet's calls the same way.
    from mmdet.registry import MODELS as MMDET_MODELS
    mixed = MMDET_MODELS.build(_model_cfg(MMDET_CONFIG))
    assert type(mixed.panoptic_fusion_head).__module__.startswith(
        'panoptic_zoo.')
    mixed.load_state_dict(ref.state_dict(), strict=True)
    preds = []
    for model in (ref, ours, mixed):
        model.eval()
        # Accept every detection so fusion sees instances at random init.
        model.roi_head.test_cfg.score_thr = 0.0
        data = model.data_preprocessor(copy.deepcopy(_batch(2)), False)
        with torch.no_grad():
            preds.append(model(**data, mode='predict'))
    for a, b, c in zip(*preds):
        pa = a.pred_panoptic_seg.sem_seg
        assert pa.shape == (1, ) + tuple(a.ori_shape)
        assert torch.equal(pa, b.pred_panoptic_seg.sem_seg)
        assert torch.equal(pa, c.pred_panoptic_seg.sem_seg)
    # The maps are not trivially void: the comparison means something.
    assert any((p.pred_panoptic_seg.sem_seg < 133).any() for p in preds[1])


def test_channels_last_gives_the_same_losses_and_gradients(models):
    """``channels_last=True`` changes memory layout only: NHWC weights in
    the backbone and neck, NCHW maps for the heads, equal losses/grads."""
    _, ours = models
    cfg = _model_cfg(
        config_path('panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco.py'))
    cfg.channels_last = True
    fast = MODELS.build(cfg)
    fast.load_state_dict(ours.state_dict(), strict=True)
    conv = fast.backbone.conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert not conv.is_contiguous()  # really NHWC, not a 1x1 corner case
    results = []
    for model in (ours, fast):
        model.train()
        model.zero_grad()
        data = model.data_preprocessor(copy.deepcopy(_batch(1)), True)
        feats = model.extract_feat(data['inputs'])
        assert all(f.is_contiguous() for f in feats)
        torch.manual_seed(7)
        np.random.seed(7)
        losses = model(**data, mode='loss')
        total = sum(v if not isinstance(v, list) else sum(v)
                    for k, v in losses.items() if 'loss' in k)
        total.backward()
        results.append((losses, model.backbone.layer1[0].conv1.weight.grad))
    (ref_losses, ref_grad), (fast_losses, fast_grad) = results
    for key, value in ref_losses.items():
        torch.testing.assert_close(
            fast_losses[key], value, rtol=1e-4, atol=1e-5, msg=key)
    torch.testing.assert_close(fast_grad, ref_grad, rtol=1e-3, atol=1e-5)
