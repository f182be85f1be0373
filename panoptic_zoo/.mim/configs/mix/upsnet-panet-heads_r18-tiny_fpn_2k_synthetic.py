# UPSNet with PANet's instance branch, on the built-in dataset: the tiny
# UPSNet (FPN, UPSNet semantic head, parameter-free panoptic head) whose RoI
# head pools every RoI from every level (adaptive feature pooling, max
# fusion) and whose mask head is PANet's FC fusion head. The panoptic loss
# trains the FC fusion path through the mask logits. No paper built it.
_base_ = [
    '../upsnet/upsnet_r18-tiny_fpn_2k_synthetic.py',
    '../_base_/parts/panet_heads.py'
]

norm_cfg = dict(type='GN', num_groups=8, requires_grad=True)
model = dict(
    roi_head=dict(
        _base_.panet_roi_head,
        bbox_head=dict(_base_.panet_roi_head.bbox_head, norm_cfg=norm_cfg),
        mask_head=dict(_base_.panet_roi_head.mask_head, norm_cfg=norm_cfg)))
