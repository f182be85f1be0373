# PANet panoptic on the built-in dataset: the PANet parts of
# panoptic-panet_r50_path-aug-fpn_1x_coco.py on the tiny Panoptic FPN
# (ResNet-18 base width 16, width-64 neck and heads, GN with 8 groups, 320 px,
# 2000 iterations), so the two synthetic models differ only in those parts.
_base_ = [
    '../panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py',
    '../_base_/parts/panet_heads.py'
]

norm_cfg = dict(type='GN', num_groups=8, requires_grad=True)
model = dict(
    neck=dict(type='PANetPathAug', norm_cfg=norm_cfg),
    roi_head=dict(
        _base_.panet_roi_head,
        bbox_head=dict(_base_.panet_roi_head.bbox_head, norm_cfg=norm_cfg),
        mask_head=dict(_base_.panet_roi_head.mask_head, norm_cfg=norm_cfg)))
