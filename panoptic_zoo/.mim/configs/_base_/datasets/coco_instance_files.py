# The COCO instance files of a panoptic dataset (annotations/
# instances_{train,val}2017.json next to the panoptic ones, images in
# train2017/ and val2017/), as overlays of a panoptic config's loaders for
# mmdet's instance detectors (Mask AP with CocoMetric). A config that lists
# this file in its _base_ next to a panoptic config uses them as
#   train_dataloader = dict(dataset=dict(_base_.instance_train_set, ...))
# with pipelines whose LoadPanopticAnnotations is LoadAnnotations.
instance_train_set = dict(
    type='CocoDataset',
    ann_file='annotations/instances_train2017.json',
    data_prefix=dict(_delete_=True, img='train2017/'))
instance_val_set = dict(
    type='CocoDataset',
    ann_file='annotations/instances_val2017.json',
    data_prefix=dict(_delete_=True, img='val2017/'))
instance_annotations = dict(
    type='LoadAnnotations', with_bbox=True, with_mask=True)
mask_ap_evaluator = dict(
    _delete_=True,
    type='CocoMetric',
    metric=['bbox', 'segm'],
    format_only=False)
