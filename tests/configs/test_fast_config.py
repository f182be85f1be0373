"""The fast Panoptic FPN config: its parts, and the base's panoptic output
from the same weights."""
import copy

import numpy as np
import pytest
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config

from panoptic_zoo.models.fusion_heads import SyncFreeHeuristicFusionHead
from panoptic_zoo.models.bbox_heads import TopKNMSShared2FCBBoxHead
from panoptic_zoo.models.mask_heads import SyncFreeFCNMaskHead
from panoptic_zoo.models.task_modules import (CachedAnchorGenerator,
                                             DeviceRandomSampler,
                                             SyncFreeMaxIoUAssigner)
from panoptic_zoo.registry import MODELS
from panoptic_zoo.testing import config_path

BASE = 'panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco.py'
FAST = 'panoptic_fpn/panoptic-fpn_r50_fpn_fast-1x_coco.py'


def _cfg(relative):
    cfg = Config.fromfile(config_path(relative))
    cfg.model.backbone.init_cfg = None  # no download in tests
    return cfg


def _coco_batch(seed, image_shapes, num_items):
    """mmdet's demo batch with COCO's 80 thing classes, masks and a
    semantic map; numpy-seeded (demo_mm_inputs draws with np.random)."""
    np.random.seed(seed)
    return demo_mm_inputs(
        batch_size=len(image_shapes),
        image_shapes=image_shapes,
        num_items=num_items,
        num_classes=80,
        with_mask=True,
        with_semantic=True)


@pytest.fixture(scope='module')
def models():
    torch.manual_seed(0)
    base = MODELS.build(_cfg(BASE).model)
    fast = MODELS.build(_cfg(FAST).model)
    fast.load_state_dict(base.state_dict(), strict=True)
    return base, fast


def test_fast_config_switches_on_the_fast_parts(models):
    cfg, base_cfg = _cfg(FAST), _cfg(BASE)
    _, fast = models
    assert isinstance(fast.rpn_head.sampler, DeviceRandomSampler)
    assert isinstance(fast.roi_head.bbox_sampler, DeviceRandomSampler)
    assert isinstance(fast.rpn_head.assigner, SyncFreeMaxIoUAssigner)
    assert isinstance(fast.roi_head.bbox_assigner, SyncFreeMaxIoUAssigner)
    # The samplers' settings are the base's, only the type changes.
    for stage, num in (('rpn', 256), ('rcnn', 512)):
        sampler = cfg.model.train_cfg[stage].sampler
        assert sampler == dict(
            base_cfg.model.train_cfg[stage].sampler,
            type='DeviceRandomSampler')
        assert sampler.num == num
        assigner = cfg.model.train_cfg[stage].assigner
        assert assigner == dict(
            base_cfg.model.train_cfg[stage].assigner,
            type='SyncFreeMaxIoUAssigner')
    assert isinstance(fast.roi_head.bbox_head, TopKNMSShared2FCBBoxHead)
    assert isinstance(fast.roi_head.mask_head, SyncFreeFCNMaskHead)
    # Only the types change: the heads' arguments are the base's.
    for head in ('bbox_head', 'mask_head'):
        fast_head = dict(cfg.model.roi_head[head])
        base_head = dict(base_cfg.model.roi_head[head])
        fast_head.pop('type'), base_head.pop('type')
        assert fast_head == base_head
    assert isinstance(fast.rpn_head.prior_generator, CachedAnchorGenerator)
    anchors = dict(cfg.model.rpn_head.anchor_generator)
    assert anchors.pop('type') == 'CachedAnchorGenerator'
    base_anchors = dict(base_cfg.model.rpn_head.anchor_generator)
    base_anchors.pop('type')
    assert anchors == base_anchors
    fusion = fast.panoptic_fusion_head
    assert isinstance(fusion, SyncFreeHeuristicFusionHead)
    assert (fusion.num_things_classes, fusion.num_stuff_classes) == (80, 53)
    assert fusion.test_cfg == base_cfg.model.test_cfg.panoptic
    optim = cfg.optim_wrapper
    assert optim.type == 'AmpOptimWrapper' and optim.dtype == 'float16'
    assert optim.loss_scale == 'dynamic'
    assert cfg.model.channels_last is True
    assert optim.optimizer == base_cfg.optim_wrapper.optimizer
    assert cfg.env_cfg.cudnn_benchmark is True
    assert cfg.env_cfg.mp_cfg == base_cfg.env_cfg.mp_cfg  # rest kept
    loader, base_loader = dict(cfg.train_dataloader), dict(
        base_cfg.train_dataloader)
    assert (loader.pop('num_workers'), loader.pop('pin_memory')) == (4, True)
    base_loader.pop('num_workers')
    assert loader == base_loader
    assert fast.data_preprocessor._non_blocking is True


@pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="mmengine's AmpOptimWrapper builds only where CUDA is")
def test_fast_config_trains_a_step_on_cuda(models):
    """The whole fast recipe on the GPU: fp16 autocast through mmcv's
    RoIAlign, channels-last convs, GPU samplers; the loss is finite and
    the weights move."""
    from mmengine.optim import build_optim_wrapper
    model = copy.deepcopy(models[1]).cuda().train()
    wrapper = build_optim_wrapper(model, _cfg(FAST).optim_wrapper)
    assert wrapper.cast_dtype == torch.float16
    batch = _coco_batch(3, [(3, 128, 160)] * 2, [3, 5])
    # One trained weight per part (the stem and stage 1 are frozen).
    watched = {
        'backbone': model.backbone.layer2[0].conv1.weight,
        'neck': model.neck.fpn_convs[0].conv.weight,
        'rpn': model.rpn_head.rpn_conv.weight,
        'bbox head': model.roi_head.bbox_head.fc_cls.weight,
        'mask head': model.roi_head.mask_head.conv_logits.weight,
        'semantic head': model.semantic_head.conv_logits.weight,
    }
    before = {k: v.detach().clone() for k, v in watched.items()}

    def moved():
        return {k for k, v in watched.items() if not torch.equal(before[k], v)}

    # Dynamic loss scaling starts at 2^16 and skips the steps whose fp16
    # gradients overflow, halving the scale each time: a few may pass.
    for _ in range(20):
        log = model.train_step(batch, wrapper)
        assert all(torch.isfinite(v).all() for v in log.values())
        if moved():
            break
    assert moved() == set(watched)


def test_fast_config_predicts_the_base_panoptic_maps(models):
    preds = []
    for model in models:
        model.eval()
        # Accept every detection so fusion sees instances at random init.
        model.roi_head.test_cfg.score_thr = 0.0
        batch = _coco_batch(2, [(3, 128, 160), (3, 96, 128)], [3, 5])
        data = model.data_preprocessor(copy.deepcopy(batch), False)
        with torch.no_grad():
            preds.append(model(**data, mode='predict'))
    for base, fast in zip(*preds):
        expected = base.pred_panoptic_seg.sem_seg
        got = fast.pred_panoptic_seg.sem_seg
        assert got.shape == (1, ) + tuple(base.ori_shape)
        assert got.dtype == expected.dtype
        assert torch.equal(got, expected)
    # Not trivially equal: instances were laid in at least one image.
    assert any((p.pred_panoptic_seg.sem_seg >= INSTANCE_OFFSET).any()
               for p in preds[1])


def test_fast_training_parts_give_the_base_losses():
    """Every training part the fast config swaps in (GPU samplers, sync-free
    assigner, GPU mask targets, cached anchors, the RPN's shared samples)
    gives the base's losses exactly on the CPU, in fp32. channels_last is
    off here: its own test (equal within float tolerance) is in
    tests/models/segmentors/test_panoptic_fpn_parity.py."""
    base_cfg, fast_cfg = _cfg(BASE), _cfg(FAST)
    fast_cfg.model.channels_last = False
    torch.manual_seed(0)
    base = MODELS.build(base_cfg.model)
    fast = MODELS.build(fast_cfg.model)
    fast.load_state_dict(base.state_dict(), strict=True)
    batch = _coco_batch(4, [(3, 128, 160), (3, 96, 128)], [4, 6])
    results = []
    for model in (base, fast):
        model.train()
        data = model.data_preprocessor(copy.deepcopy(batch), True)
        torch.manual_seed(7)  # the samplers draw from the global generator
        np.random.seed(7)
        results.append(model(**data, mode='loss'))
    base_losses, fast_losses = results
    assert set(base_losses) == set(fast_losses)
    assert base_losses['loss_mask'] > 0
    for key, value in base_losses.items():
        torch.testing.assert_close(
            fast_losses[key], value, rtol=0, atol=0, msg=key)
