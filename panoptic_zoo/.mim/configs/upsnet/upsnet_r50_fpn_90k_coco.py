# UPSNet R50-FPN on COCO panoptic (Xiong et al., CVPR 2019), the official
# upsnet_resnet50_coco_16gpu.yaml (PQ 42.5 on val in its README):
# Mask R-CNN FG branch, deformable semantic head with the RoI loss, the
# parameter-free panoptic head with the unknown class. Total loss = RPN +
# RCNN + mask + 0.2 semantic + 0.04 RoI + 0.1 panoptic. Schedule: 90k
# iterations at batch 16 (official 16 GPUs x 1 image; here 8 x 2), lr 0.02,
# steps 60k/80k, linear warmup over 1500 iterations from lr/10, biases at 2x
# lr without weight decay, norms without weight decay.
# Not reproduced: fpn_with_gap (GAP(res5) added to the P5 lateral), legacy
# RoIAlign in the FG branch (mmdet's aligned=True is kept), SmoothL1 box
# losses, the momentum-buffer rescaling at the lr steps.
_base_ = [
    '../_base_/models/panoptic-fpn_r50_fpn.py',
    '../_base_/datasets/coco_panoptic.py', '../_base_/default_runtime.py',
    '../_base_/parts/upsnet_heads.py'
]

model = dict(
    semantic_head=dict(
        _base_.upsnet_semantic_head,
        _delete_=True,
        num_things_classes=_base_.num_things_classes,
        num_stuff_classes=_base_.num_stuff_classes,
        inner_channels=128),
    panoptic_fusion_head=dict(_delete_=True, **_base_.upsnet_panoptic_head),
    # Official RPN: 2000 proposals kept in training, 1000 at test.
    train_cfg=dict(rpn_proposal=dict(nms_pre=2000, max_per_img=2000)),
    test_cfg=dict(
        # Official panoptic detections: score > 0.6, one class-agnostic
        # NMS at 0.5, at most 100.
        rcnn=dict(
            score_thr=0.6,
            nms=dict(type='nms', iou_threshold=0.5, class_agnostic=True),
            max_per_img=100),
        panoptic=dict(
            _delete_=True,
            mask_overlap=0.3,
            stuff_area_limit=4096,
            relabel_to_stuff=True,
            no_instance_logit=0.,
            instance_chunk=32)))

train_dataloader = dict(batch_size=2)

max_iters = 90000
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=10000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=1500),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[60000, 80000],
        gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001),
    paramwise_cfg=dict(
        bias_lr_mult=2., bias_decay_mult=0., norm_decay_mult=0.))
auto_scale_lr = dict(enable=False, base_batch_size=16)

default_hooks = dict(checkpoint=dict(by_epoch=False, interval=10000))
log_processor = dict(by_epoch=False)
