"""The UPSNet and mix configs: paper settings, build, one train step with
finite losses and one valid panoptic prediction on the built-in dataset."""

import pytest
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from panoptic_zoo.registry import DATASETS, MODELS
from panoptic_zoo.testing import config_path, tiny_synthetic_config

UPS_COCO = 'upsnet/upsnet_r50_fpn_90k_coco.py'
UPS_SYN = 'upsnet/upsnet_r18-tiny_fpn_2k_synthetic.py'
MIX_COCO = 'mix/panoptic-fpn-upsnet-fusion_r50_fpn_1x_coco.py'
MIX_SYN = 'mix/panoptic-fpn-upsnet-fusion_r18-tiny_fpn_2k_synthetic.py'
NO_UNKNOWN = {
    'model.panoptic_fusion_head.keep_fraction': 1.0,
    'model.panoptic_fusion_head.with_unknown': False
}


def _coco_model(relative):
    cfg = Config.fromfile(config_path(relative))
    cfg.model.backbone.init_cfg = None
    return cfg, MODELS.build(cfg.model)


def test_upsnet_coco_config_has_the_paper_settings():
    cfg, model = _coco_model(UPS_COCO)
    sem = model.semantic_head
    assert type(sem).__name__ == 'UPSNetSemanticHead'
    assert [type(layer.conv).__name__
            for layer in sem.subnet] == ['DeformConv2dPack'] * 3  # DCN v1
    assert [(layer.conv.in_channels, layer.conv.out_channels)
            for layer in sem.subnet] == [(256, 256), (256, 128), (128, 128)]
    assert all(layer.norm is None for layer in sem.subnet)
    assert sem.num_classes == 133 and sem.conv_logits.in_channels == 512
    assert not sem.roi_aligned and sem.roi_sampling_ratio == 2
    assert sem.loss_seg.loss_weight == 0.2 and sem.loss_seg.avg_non_ignore
    assert sem.loss_roi.loss_weight == 0.04
    assert not sem.loss_roi.avg_non_ignore
    fusion = model.panoptic_fusion_head
    assert type(fusion).__name__ == 'UPSNetPanopticHead'
    assert fusion.loss_panoptic.loss_weight == 0.1
    assert not fusion.loss_panoptic.avg_non_ignore
    assert fusion.keep_fraction == 0.7 and fusion.with_unknown
    assert fusion.test_cfg['mask_overlap'] == 0.3
    assert fusion.test_cfg['stuff_area_limit'] == 4096
    rcnn = model.test_cfg.rcnn
    assert rcnn.score_thr == 0.6 and rcnn.nms.class_agnostic
    assert rcnn.nms.iou_threshold == 0.5 and rcnn.max_per_img == 100
    # 90k iterations at 16 images, steps 60k / 80k, 1500 warmup from lr/10.
    assert cfg.train_cfg.max_iters == 90000
    warmup, steps = cfg.param_scheduler
    assert (warmup.end, warmup.start_factor) == (1500, 0.1)
    assert steps.milestones == [60000, 80000]
    assert cfg.optim_wrapper.optimizer.lr == 0.02
    assert cfg.train_dataloader.batch_size * 8 == 16
    assert cfg.optim_wrapper.paramwise_cfg.bias_lr_mult == 2.


def test_mix_coco_config_puts_the_upsnet_head_on_panoptic_fpn():
    _, model = _coco_model(MIX_COCO)
    assert type(model.semantic_head).__name__ == 'PanopticFPNPerClassHead'
    assert model.semantic_head.conv_logits.out_channels == 133
    assert type(model.panoptic_fusion_head).__name__ == 'UPSNetPanopticHead'


def _check_panoptic_map(pan, ori_shape, num_things=4, num_stuff=3):
    assert pan.shape == (1, ) + tuple(ori_shape)
    labels, ids = pan % INSTANCE_OFFSET, pan // INSTANCE_OFFSET
    assert (labels <= num_things + num_stuff).all()  # void = T + S
    assert (ids[labels < num_things] >= 1).all()  # things carry an id
    assert (ids[labels >= num_things] == 0).all()


@pytest.mark.parametrize('relative,options', [(UPS_SYN, {}),
                                              (UPS_SYN, NO_UNKNOWN),
                                              (MIX_SYN, {})])
@pytest.mark.slow
def test_synthetic_config_trains_and_predicts(relative, options,
                                              synthetic_root, tmp_path):
    cfg = tiny_synthetic_config(synthetic_root, str(tmp_path), 1, relative)
    cfg.merge_from_dict(options)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert model.panoptic_fusion_head.with_unknown == (not options)

    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    data = model.data_preprocessor(
        pseudo_collate([train_set[0], train_set[1]]), True)
    model.train()
    total, losses = model.parse_losses(model(**data, mode='loss'))
    assert {'loss_seg', 'loss_panoptic', 'loss_mask'} <= set(losses)
    assert ('loss_roi' in losses) == (relative == UPS_SYN)
    assert all(torch.isfinite(v).all() for v in losses.values()), losses
    total.backward()

    model.eval()
    val_set = DATASETS.build(cfg.val_dataloader.dataset)
    # Every detection (random init), then none at all.
    for score_thr, has_things in ((0., True), (1.1, False)):
        model.roi_head.test_cfg.score_thr = score_thr
        with torch.no_grad():
            pred = model.val_step(pseudo_collate([val_set[0]]))[0]
        pan = pred.pred_panoptic_seg.sem_seg
        _check_panoptic_map(pan, pred.ori_shape)
        assert bool((pan % INSTANCE_OFFSET < 4).any()) == has_things
