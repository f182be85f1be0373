# A new mix: Panoptic FPN (R50-FPN, 1x, COCO panoptic) with AUNet's proposal
# attention module alone (PAM with background reweight, GN) on P2-P5, the
# levels its semantic head reads. Everything else is Panoptic FPN's, so the
# comparison isolates PAM.
_base_ = [
    '../panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco.py',
    '../_base_/parts/aunet_attention.py'
]

model = dict(attention=[
    dict(
        _base_.pam,
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True))
])
