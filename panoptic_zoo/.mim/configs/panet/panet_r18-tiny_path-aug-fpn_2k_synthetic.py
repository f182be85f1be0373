# PANet instance segmentation on the built-in dataset: the tiny PANet model
# of panoptic-panet_r18-tiny_path-aug-fpn_2k_synthetic.py as mmdet's Mask
# R-CNN detector, trained and evaluated (CocoMetric bbox + segm) on the
# dataset's COCO instance files, annotations/instances_{train,val}2017.json.
_base_ = './panoptic-panet_r18-tiny_path-aug-fpn_2k_synthetic.py'

# Mask R-CNN of the panoptic model's FG branch, as panet_r50_*_coco.py.
model = dict(
    type='WiredMaskRCNN',
    data_preprocessor=dict(pad_seg=False),
    test_cfg=dict(rcnn=dict(score_thr=0.05, nms=dict(class_agnostic=False))))

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

# The panoptic config's loaders, read from the instance files (images
# without objects are kept, as in the panoptic training set).
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        metainfo=metainfo,
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(_delete_=True, img='train2017/'),
        filter_cfg=dict(min_size=0),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        metainfo=metainfo,
        ann_file='annotations/instances_val2017.json',
        data_prefix=dict(_delete_=True, img='val2017/'),
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
