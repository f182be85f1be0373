# AUNet ablation on the built-in dataset: MAM with background reweight.
# Everything else is aunet_r18-tiny_fpn_2k_synthetic.py (the full model:
# PAM and MAM, both with reweight, normalised RoIUpsample).
_base_ = './aunet_r18-tiny_fpn_2k_synthetic.py'

model = dict(attention=[
    dict(
        type='MAM',
        bg_channels=64,
        num_levels=4,
        strides=(4, 8, 16, 32),
        normalize=True,
        reweight=True,
        norm_cfg=dict(type='GN', num_groups=8, requires_grad=True))
])
