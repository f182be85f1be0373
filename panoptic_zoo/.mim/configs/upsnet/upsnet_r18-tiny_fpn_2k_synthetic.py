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
# Without the unknown class (the paper's ablation): --cfg-options
# model.panoptic_fusion_head.keep_fraction=1.0
# model.panoptic_fusion_head.with_unknown=False
_base_ = '../panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'

num_things_classes = 4
num_stuff_classes = 3
width = 64  # FPN channels

model = dict(
    semantic_head=dict(
        _delete_=True,
        type='UPSNetSemanticHead',
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes,
        in_channels=width,
        inner_channels=32,
        num_convs=3,
        conv_cfg=dict(type='Conv2d'),  # official: dict(type='DCN')
        loss_seg=dict(
            type='CrossEntropyLoss',
            ignore_index=255,
            avg_non_ignore=True,
            loss_weight=0.2),
        loss_roi=dict(
            type='CrossEntropyLoss', ignore_index=255, loss_weight=0.04)),
    panoptic_fusion_head=dict(
        _delete_=True,
        type='UPSNetPanopticHead',
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes,
        keep_fraction=0.7,
        with_unknown=True,
        loss_panoptic=dict(
            type='CrossEntropyLoss', ignore_index=255, loss_weight=0.1)),
    test_cfg=dict(
        panoptic=dict(_delete_=True, mask_overlap=0.3, stuff_area_limit=64)))
