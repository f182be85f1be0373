# AUNet ablation on the built-in dataset: PAM with background reweight.
# Everything else is aunet_r18-tiny_fpn_2k_synthetic.py (the full model:
# PAM and MAM, both with reweight, normalised RoIUpsample).
_base_ = './aunet_r18-tiny_fpn_2k_synthetic.py'

model = dict(attention=[
    dict(
        type='PAM',
        rpn_channels=64,
        bg_channels=64,
        num_levels=4,
        reweight=True,
        norm_cfg=dict(type='GN', num_groups=8, requires_grad=True))
])
