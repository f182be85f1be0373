# Cityscapes panoptic (fine annotations, 19 classes: 8 things + 11 stuff).
# data_root: the folder with leftImg8bit/ and gtFine/, converted once with
#   panoptic-zoo convert cityscapes data/cityscapes
# (writes gtFine/cityscapes_panoptic_{train,val}.json + PNG folders, as
# cityscapesScripts' createPanopticImgs). Classes: CityscapesPanopticDataset.
# Training: random rescale of the 2048x1024 frames by 0.5-2.0, 512x1024
# crops, flip (Panoptic FPN / UPSNet / AUNet); test at full resolution.
_base_ = './coco_panoptic.py'

dataset_type = 'CityscapesPanopticDataset'
data_root = 'data/cityscapes/'
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadPanopticAnnotations', backend_args=backend_args),
    dict(
        type='RandomResize',
        scale=(2048, 1024),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(
        type='RandomCrop',
        crop_size=(512, 1024),
        crop_type='absolute',
        recompute_bbox=True,
        allow_negative_crop=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='LoadPanopticAnnotations', backend_args=backend_args),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]

train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='gtFine/cityscapes_panoptic_train.json',
        data_prefix=dict(
            img='leftImg8bit/train/',
            seg='gtFine/cityscapes_panoptic_train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='gtFine/cityscapes_panoptic_val.json',
        data_prefix=dict(
            img='leftImg8bit/val/', seg='gtFine/cityscapes_panoptic_val/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='PanopticQuality',
    ann_file=data_root + 'gtFine/cityscapes_panoptic_val.json',
    seg_prefix=data_root + 'gtFine/cityscapes_panoptic_val/')
test_evaluator = val_evaluator
