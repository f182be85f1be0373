# Panoptic FPN on the built-in dataset: a narrow ResNet-18 (base width 16)
# trained from scratch at 320 px, sized to train on a 2-core CPU in minutes.
# Class numbers come from the dataset (SyntheticPanopticDataset.METAINFO).
_base_ = [
    '../_base_/models/panoptic-fpn_r50_fpn.py',
    '../_base_/datasets/synthetic_panoptic.py',
    '../_base_/default_runtime.py'
]

num_things_classes = 4
num_stuff_classes = 3
width = 64  # FPN channels; the heads' flow from it

model = dict(
    backbone=dict(
        depth=18,
        base_channels=16,
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=None),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=width),
    roi_head=dict(
        bbox_head=dict(fc_out_channels=256, num_classes=num_things_classes),
        mask_head=dict(num_classes=num_things_classes)),
    semantic_head=dict(
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes,
        inner_channels=32,
        norm_cfg=dict(type='GN', num_groups=8, requires_grad=True)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=300),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=100),
        rcnn=dict(score_thr=0.5),
        panoptic=dict(stuff_area_limit=64)))

max_iters = 2000
train_cfg = dict(
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=200),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[int(max_iters * 0.8)],
        gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=10, norm_type=2))

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=False, interval=max_iters))
log_processor = dict(by_epoch=False)
# Predictions next to ground truth, written at the end of val/test.
custom_hooks = [
    dict(type='ClassCheckHook'),
    dict(type='ProgressBarHook'),
    dict(type='PanopticPictureHook', num_images=6)
]
