# PANet instance segmentation on the built-in dataset: the tiny PANet model
# of panoptic-panet_r18-tiny_path-aug-fpn_2k_synthetic.py as mmdet's Mask
# R-CNN detector, trained and evaluated (CocoMetric bbox + segm) on the
# dataset's COCO instance files, annotations/instances_{train,val}2017.json.
_base_ = [
    './panoptic-panet_r18-tiny_path-aug-fpn_2k_synthetic.py',
    '../_base_/datasets/coco_instance_files.py'
]

# Mask R-CNN of the panoptic model's FG branch, as panet_r50_*_coco.py.
model = dict(
    type='WiredMaskRCNN',
    data_preprocessor=dict(pad_seg=False),
    test_cfg=dict(rcnn=dict(score_thr=0.05, nms=dict(class_agnostic=False))))

dataset_type = 'CocoDataset'  # instance_train_set's and instance_val_set's
# The thing classes of the built-in dataset (SYNTHETIC_METAINFO), in the
# category-id order of its instances files.
metainfo = dict(classes=('circle', 'square', 'triangle', 'cross'))
# The panoptic pipelines, reading instance annotations.
train_pipeline = _base_.train_pipeline[:1] + [_base_.instance_annotations
                                              ] + _base_.train_pipeline[2:]
test_pipeline = _base_.test_pipeline[:2] + [_base_.instance_annotations
                                            ] + _base_.test_pipeline[3:]

# The panoptic config's loaders on the instance files; images without
# objects are kept, as in the panoptic training set.
train_dataloader = dict(
    dataset=dict(
        _base_.instance_train_set,
        metainfo=metainfo,
        filter_cfg=dict(min_size=0),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        _base_.instance_val_set, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(
    _base_.mask_ap_evaluator,
    ann_file=_base_.data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator

# ClassCheckHook and PanopticPictureHook are for panoptic models.
custom_hooks = [dict(type='ProgressBarHook')]
