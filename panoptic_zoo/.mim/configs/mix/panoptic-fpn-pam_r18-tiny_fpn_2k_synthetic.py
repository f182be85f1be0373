# Panoptic FPN + AUNet's PAM only, on the built-in dataset: the tiny Panoptic
# FPN unchanged except for the proposal attention (with background reweight)
# on the features its semantic head reads, so a PQ comparison with
# panoptic-fpn_r18-tiny_fpn_2k_synthetic.py isolates PAM. No paper built it.
_base_ = [
    '../panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py',
    '../_base_/parts/aunet_attention.py'
]

model = dict(attention=[
    dict(
        _base_.pam, norm_cfg=dict(type='GN', num_groups=8, requires_grad=True))
])
