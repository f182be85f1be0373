# UPSNet on the built-in dataset: the tiny Panoptic FPN synthetic model
# (ResNet-18 width 16, FPN 64, same detector, data and 2k-iteration
# schedule) with UPSNet's BG branch and panoptic head, so a PQ comparison
# with panoptic-fpn_r18-tiny_fpn_2k_synthetic.py isolates them. Loss
# weights are the paper's COCO ones (semantic 0.2, RoI 0.04, panoptic 0.1).
# One change for CPU budgets: the shared stack uses plain 3x3 convs. mmcv's
# CPU deformable-conv kernels make a training step ~5x slower than the
# whole Panoptic FPN step (hours instead of minutes for 2k iterations);
# the official DCN v1 is one option away:
# --cfg-options model.semantic_head.conv_cfg.type=DCN
_base_ = [
    '../panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py',
    '../_base_/parts/upsnet_heads.py'
]

model = dict(
    semantic_head=dict(
        _base_.upsnet_semantic_head,
        _delete_=True,
        num_things_classes=_base_.num_things_classes,
        num_stuff_classes=_base_.num_stuff_classes,
        inner_channels=32,
        conv_cfg=dict(type='Conv2d')),  # official: dict(type='DCN')
    panoptic_fusion_head=dict(_delete_=True, **_base_.upsnet_panoptic_head),
    test_cfg=dict(panoptic=dict(mask_overlap=0.3)))
