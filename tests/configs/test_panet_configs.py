"""The PANet configs build the paper's parts, and the synthetic ones train
(one step, finite losses) and predict on the built-in dataset."""
import math

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from panoptic_zoo.datasets import SYNTHETIC_METAINFO
from panoptic_zoo.registry import MODELS
from panoptic_zoo.testing import config_path, tiny_synthetic_config

PANOPTIC_COCO = 'panet/panoptic-panet_r50_path-aug-fpn_1x_coco.py'
INSTANCE_COCO = 'panet/panet_r50_path-aug-fpn_1x_coco.py'
PANOPTIC_SYN = 'panet/panoptic-panet_r18-tiny_path-aug-fpn_2k_synthetic.py'
INSTANCE_SYN = 'panet/panet_r18-tiny_path-aug-fpn_2k_synthetic.py'
FPN_COCO = 'panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco.py'
FPN_SYN = 'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'


def _flat(cfg, prefix=''):
    """{dotted key: value} of a config's leaves (merge markers left out)."""
    out = {}
    for key, value in cfg.items():
        if key == '_delete_':
            continue
        if isinstance(value, dict):
            out.update(_flat(value, f'{prefix}{key}.'))
        else:
            out[f'{prefix}{key}'] = value
    return out


def _check_panet_parts(model, num_classes):
    assert type(model.neck).__name__ == 'PANetPathAug'
    roi_head = model.roi_head
    assert type(roi_head).__name__ == 'StandardRoIHead'
    for extractor in (roi_head.bbox_roi_extractor,
                      roi_head.mask_roi_extractor):
        assert type(extractor).__name__ == 'AdaptiveRoIExtractor'
        assert not extractor.roi_layers[0].aligned  # Detectron's RoIAlign
        assert extractor.roi_layers[0].sampling_ratio == 2
    bbox_head, mask_head = roi_head.bbox_head, roi_head.mask_head
    assert type(bbox_head).__name__ == 'AdaptiveConvFCBBoxHead'
    assert bbox_head.per_level_layer == 'conv' and bbox_head.num_levels == 4
    assert len(bbox_head.shared_convs) == 3  # conv1 is per level
    assert bbox_head.level_fusion.fusion == 'max'
    assert type(mask_head).__name__ == 'FCFusionMaskHead'
    assert mask_head.num_levels == 4 and mask_head.fc_relu
    assert bbox_head.num_classes == mask_head.num_classes == num_classes


@pytest.mark.parametrize('relative,detector',
                         [(PANOPTIC_COCO, 'PanopticSegmentor'),
                          (INSTANCE_COCO, 'WiredMaskRCNN')])
def test_coco_configs_build_the_paper_model(relative, detector):
    cfg = Config.fromfile(config_path(relative))
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == detector
    _check_panet_parts(model, 80)
    assert model.neck.out_channels == 256
    assert model.neck.pafpn_convs[0].norm.num_groups == 32
    assert [m.conv.out_channels
            for m in model.roi_head.mask_head.fc_convs] == [256, 128]
    assert cfg.optim_wrapper.paramwise_cfg.bias_lr_mult == 2.
    assert cfg.param_scheduler[0].start_factor == pytest.approx(1 / 3)


def test_panoptic_panet_differs_from_panoptic_fpn_only_in_its_parts():
    """Same data, schedule length and BG branch: the zoo comparison is one
    of the PANet parts (and PANet's official solver details)."""
    for panet, fpn in ((PANOPTIC_COCO, FPN_COCO), (PANOPTIC_SYN, FPN_SYN)):
        ours = _flat(Config.fromfile(config_path(panet))._cfg_dict)
        ref = _flat(Config.fromfile(config_path(fpn))._cfg_dict)
        changed = {
            k
            for k in ours.keys() | ref.keys() if ours.get(k) != ref.get(k)
        }
        allowed = ('model.neck.', 'model.roi_head.', 'norm_cfg',
                   'panet_', 'optim_wrapper.paramwise_cfg',
                   'param_scheduler')
        assert all(k.startswith(allowed) for k in changed), changed


def test_instance_synthetic_uses_the_dataset_thing_classes():
    cfg = Config.fromfile(config_path(INSTANCE_SYN))
    for split in ('train', 'val', 'test'):
        dataset = cfg[f'{split}_dataloader'].dataset
        assert dataset.type == 'CocoDataset'
        assert tuple(dataset.metainfo.classes) == \
            SYNTHETIC_METAINFO['thing_classes']
        assert dataset.ann_file.startswith('annotations/instances_')
    assert cfg.val_evaluator.metric == ['bbox', 'segm']
    assert cfg.model.roi_head.bbox_head.num_classes == 4


class _Record(Hook):

    def __init__(self):
        self.losses, self.metrics = [], None

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        self.losses.append({k: float(v.detach()) for k, v in outputs.items()})

    def after_val_epoch(self, runner, metrics=None):
        self.metrics = metrics


def _train_and_predict(relative, data_root, work_dir):
    torch.manual_seed(0)
    cfg = tiny_synthetic_config(
        data_root, work_dir, max_iters=1, relative=relative)
    cfg.val_dataloader.dataset.indices = 2  # predict on two images
    cfg.test_dataloader = cfg.val_dataloader
    cfg.custom_hooks = [
        h for h in cfg.custom_hooks if h.type != 'PanopticPictureHook'
    ]
    record = _Record()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(record)
    runner.train()  # one step, then one evaluation (prediction) pass
    return runner, record


@pytest.mark.slow
def test_panoptic_synthetic_trains_and_predicts(synthetic_root, tmp_path):
    runner, record = _train_and_predict(PANOPTIC_SYN, synthetic_root,
                                        str(tmp_path))
    _check_panet_parts(runner.model, 4)
    losses = record.losses[0]
    assert {'loss_mask', 'loss_seg', 'loss_cls', 'loss_rpn_cls'} <= \
        set(losses)
    assert all(math.isfinite(v) for v in losses.values()), losses
    assert 'coco_panoptic/PQ' in record.metrics


@pytest.mark.slow
def test_instance_synthetic_trains_and_predicts(synthetic_root, tmp_path):
    runner, record = _train_and_predict(INSTANCE_SYN, synthetic_root,
                                        str(tmp_path))
    assert type(runner.model).__name__ == 'WiredMaskRCNN'
    _check_panet_parts(runner.model, 4)
    losses = record.losses[0]
    assert {'loss_mask', 'loss_cls', 'loss_bbox'} <= set(losses)
    assert all(math.isfinite(v) for v in losses.values()), losses
    assert 'coco/segm_mAP' in record.metrics
    assert 'coco/bbox_mAP' in record.metrics
