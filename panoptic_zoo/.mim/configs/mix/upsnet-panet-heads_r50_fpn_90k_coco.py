# A new mix: UPSNet (R50-FPN, deformable semantic head, parameter-free
# panoptic head, 90k iterations, COCO panoptic) with PANet's instance
# branch: adaptive feature pooling for boxes and masks (max fusion, legacy
# RoIAlign) and the FC fusion mask head, whose logits UPSNet's panoptic
# head reads and trains.
_base_ = [
    '../upsnet/upsnet_r50_fpn_90k_coco.py', '../_base_/parts/panet_heads.py'
]

norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)
model = dict(
    roi_head=dict(
        _base_.panet_roi_head,
        bbox_head=dict(_base_.panet_roi_head.bbox_head, norm_cfg=norm_cfg),
        mask_head=dict(_base_.panet_roi_head.mask_head, norm_cfg=norm_cfg)))
