# Panoptic FPN + AUNet's PAM only, on the built-in dataset: the tiny Panoptic
# FPN unchanged except for the proposal attention (with background reweight)
# on the features its semantic head reads, so a PQ comparison with
# panoptic-fpn_r18-tiny_fpn_2k_synthetic.py isolates PAM. No paper built it.
_base_ = '../panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'

width = 64  # FPN / RPN channels, as in the base

model = dict(attention=[
    dict(
        type='PAM',
        rpn_channels=width,
        bg_channels=width,
        num_levels=4,
        reweight=True,
        norm_cfg=dict(type='GN', num_groups=8, requires_grad=True))
])
