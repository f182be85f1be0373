# Panoptic FPN R50-FPN, 1x schedule on COCO panoptic (paper / mmdet setting:
# PQ 40.2 reported by mmdet for this config). ImageNet-pretrained backbone
# via the base's init_cfg (torchvision://resnet50).
_base_ = [
    '../_base_/models/panoptic-fpn_r50_fpn.py',
    '../_base_/datasets/coco_panoptic.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
