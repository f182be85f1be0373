# PANet instance segmentation on the built-in dataset: the tiny PANet model
# of panoptic-panet_r18-tiny_path-aug-fpn_2k_synthetic.py as mmdet's Mask
# R-CNN detector, trained and evaluated (CocoMetric bbox + segm) on the
# dataset's COCO instance files, annotations/instances_{train,val}2017.json.
_base_ = './panoptic-panet_r18-tiny_path-aug-fpn_2k_synthetic.py'

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
    test_cfg=dict(
        rpn=_base_.model.test_cfg.rpn,
        rcnn=dict(
            score_thr=0.05,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=100,
            mask_thr_binary=0.5)))

dataset_type = 'CocoDataset'
data_root = 'data/synthetic/'
img_scale = (320, 320)
# The thing classes of the built-in dataset (SYNTHETIC_METAINFO), in the
# category-id order of its instances files.
metainfo = dict(classes=('circle', 'square', 'triangle', 'cross'))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]

train_dataloader = dict(
    _delete_=True,
    batch_size=2,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=0),
        pipeline=train_pipeline))
val_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_val2017.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(
    _delete_=True,
    type='CocoMetric',
    ann_file=data_root + 'annotations/instances_val2017.json',
    metric=['bbox', 'segm'],
    format_only=False)
test_evaluator = val_evaluator

# ClassCheckHook and PanopticPictureHook are for panoptic models.
custom_hooks = [dict(type='ProgressBarHook')]
