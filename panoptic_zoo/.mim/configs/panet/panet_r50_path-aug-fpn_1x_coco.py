# PANet instance segmentation (Liu et al., CVPR 2018), R50, COCO 2017
# instances, 1x (12 epochs, batch 16, lr 0.02): mmdet's Mask R-CNN detector
# with the PANet parts of the panoptic config (path augmentation neck,
# adaptive feature pooling, fully-connected fusion mask head, GN), the
# official solver and the paper's multi-scale training (short side from
# {400, ..., 1200}, long side <= 1400; test 1000 / 1400).
_base_ = './panoptic-panet_r50_path-aug-fpn_1x_coco.py'

model = dict(
    _delete_=True,
    type='WiredMaskRCNN',  # mmdet's, head widths from the neck
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32,
        pad_mask=True),
    backbone=_base_.model.backbone,
    neck=_base_.model.neck,
    rpn_head=_base_.model.rpn_head,
    roi_head=_base_.model.roi_head,
    train_cfg=_base_.model.train_cfg,
    # Mask AP settings (mmdet's Mask R-CNN): keep low scores, per-class NMS.
    test_cfg=dict(
        rpn=_base_.model.test_cfg.rpn,
        rcnn=dict(
            score_thr=0.05,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=100,
            mask_thr_binary=0.5)))

dataset_type = 'CocoDataset'
data_root = 'data/coco/'
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    # The official SCALES list (1200 twice), MAX_SIZE 1400.
    dict(
        type='RandomChoiceResize',
        scales=[(1400, 1200), (1400, 1200), (1400, 1000), (1400, 800),
                (1400, 600), (1400, 400)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(1400, 1000), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]

train_dataloader = dict(
    _delete_=True,
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_val2017.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

val_evaluator = dict(
    _delete_=True,
    type='CocoMetric',
    ann_file=data_root + 'annotations/instances_val2017.json',
    metric=['bbox', 'segm'],
    format_only=False,
    backend_args=backend_args)
test_evaluator = val_evaluator

# ClassCheckHook compares thing *and* stuff classes: panoptic models only.
custom_hooks = [dict(type='ProgressBarHook')]
