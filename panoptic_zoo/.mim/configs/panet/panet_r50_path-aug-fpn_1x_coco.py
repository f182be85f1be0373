# PANet instance segmentation (Liu et al., CVPR 2018), R50, COCO 2017
# instances, 1x (12 epochs, batch 16, lr 0.02): mmdet's Mask R-CNN detector
# with the PANet parts of the panoptic config (path augmentation neck,
# adaptive feature pooling, fully-connected fusion mask head, GN), the
# official solver and the paper's multi-scale training (short side from
# {400, ..., 1200}, long side <= 1400; test 1000 / 1400).
_base_ = [
    './panoptic-panet_r50_path-aug-fpn_1x_coco.py',
    '../_base_/datasets/coco_instance_files.py'
]

# The panoptic model's FG branch (its BG slots are not built); mmdet's Mask
# AP test settings: low scores kept, per-class NMS; no semantic maps to pad.
model = dict(
    type='WiredMaskRCNN',
    data_preprocessor=dict(pad_seg=False),
    test_cfg=dict(rcnn=dict(score_thr=0.05, nms=dict(class_agnostic=False))))

dataset_type = 'CocoDataset'  # instance_train_set's and instance_val_set's
backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    _base_.instance_annotations,
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
    _base_.instance_annotations, _base_.test_pipeline[-1]
]

# The panoptic config's loaders (batch, workers, samplers, filters) on the
# instance files.
train_dataloader = dict(
    dataset=dict(_base_.instance_train_set, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(_base_.instance_val_set, pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(
    _base_.mask_ap_evaluator,
    ann_file=_base_.data_root + 'annotations/instances_val2017.json',
    backend_args=backend_args)
test_evaluator = val_evaluator

# ClassCheckHook compares thing *and* stuff classes: panoptic models only.
custom_hooks = [dict(type='ProgressBarHook')]
