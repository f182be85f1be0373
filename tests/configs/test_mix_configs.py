"""The mix configs (architectures no paper built): each COCO config and its
``_synthetic`` variant hold the same part in every slot, build, and the
synthetic one trains a step reaching every part and predicts a valid map."""
import glob
import os.path as osp

import pytest
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmengine.config import Config

from panoptic_zoo.registry import MODELS
from panoptic_zoo.testing import REPO_ROOT, config_path
from panoptic_zoo.testing.composition import tiny_batch

# COCO config: its built-in-dataset variant (same parts, tiny widths).
PAIRS = {
    'panoptic-fpn-pam_r50_fpn_1x_coco.py':
    'panoptic-fpn-pam_r18-tiny_fpn_2k_synthetic.py',
    'panet-aunet-upsnet_r50_path-aug-fpn_1x_coco.py':
    'panet-aunet-upsnet_r18-tiny_path-aug-fpn_2k_synthetic.py',
    'upsnet-panet-heads_r50_fpn_90k_coco.py':
    'upsnet-panet-heads_r18-tiny_fpn_2k_synthetic.py',
    'aunet-upsnet-fusion_r50_fpn_1x_coco.py':
    'aunet-upsnet-fusion_r18-tiny_fpn_2k_synthetic.py',
    'panoptic-fpn-upsnet-fusion_r50_fpn_1x_coco.py':
    'panoptic-fpn-upsnet-fusion_r18-tiny_fpn_2k_synthetic.py',
    'panoptic-panet-aunet-attention_r50_path-aug-fpn_1x_coco.py':
    'panoptic-panet-aunet-attention_r18-tiny_path-aug-fpn_2k_synthetic.py',
}


def _model(name):
    cfg = Config.fromfile(config_path(f'mix/{name}'))
    cfg.model.backbone.init_cfg = None
    return MODELS.build(cfg.model)


def _parts(model):
    """Type of the part in every slot, attention plugins in order."""
    roi = model.roi_head
    return dict(
        neck=type(model.neck).__name__,
        bbox_roi_extractor=type(roi.bbox_roi_extractor).__name__,
        bbox_head=type(roi.bbox_head).__name__,
        mask_roi_extractor=type(roi.mask_roi_extractor).__name__,
        mask_head=type(roi.mask_head).__name__,
        semantic_head=type(model.semantic_head).__name__,
        attention=[type(p).__name__ for p in model.attention],
        fusion=type(model.panoptic_fusion_head).__name__)


def test_every_mix_config_is_paired():
    found = {osp.basename(p) for p in glob.glob(
        osp.join(REPO_ROOT, 'configs', 'mix', '*.py'))}
    assert found == set(PAIRS) | set(PAIRS.values())


@pytest.mark.parametrize('coco', sorted(PAIRS))
def test_coco_and_synthetic_variants_hold_the_same_parts(coco):
    big, tiny = _model(coco), _model(PAIRS[coco])
    assert _parts(big) == _parts(tiny)
    assert (big.num_things_classes, big.num_stuff_classes) == (80, 53)
    assert (tiny.num_things_classes, tiny.num_stuff_classes) == (4, 3)


@pytest.mark.parametrize('coco', sorted(PAIRS))
def test_synthetic_variant_trains_and_predicts(coco):
    torch.manual_seed(0)
    model = _model(PAIRS[coco])
    model.train()
    data = model.data_preprocessor(tiny_batch(), True)
    losses = model(**data, mode='loss')
    total = sum(v.sum() if isinstance(v, torch.Tensor) else sum(v)
                for k, v in losses.items() if k.startswith('loss'))
    assert torch.isfinite(total)
    total.backward()
    for slot in ('backbone', 'neck', 'rpn_head', 'roi_head', 'semantic_head',
                 'attention', 'panoptic_fusion_head'):
        params = [p for p in getattr(model, slot).parameters()
                  if p.requires_grad]
        assert all(p.grad is not None for p in params), slot
        assert not params or any(p.grad.abs().sum() > 0 for p in params), slot
    model.eval()
    with torch.no_grad():
        sample = model(**model.data_preprocessor(tiny_batch(), False),
                       mode='predict')[0]
    pan = sample.pred_panoptic_seg.sem_seg[0]
    assert tuple(pan.shape) == tuple(sample.ori_shape)
    labels = pan % INSTANCE_OFFSET
    assert int(labels.max()) <= model.num_classes  # void = num_classes
