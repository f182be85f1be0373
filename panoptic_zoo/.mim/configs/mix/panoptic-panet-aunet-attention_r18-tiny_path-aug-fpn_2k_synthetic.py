# The mix of panoptic-panet-aunet-attention_r50_path-aug-fpn_1x_coco.py on
# the built-in dataset: AUNet's PAM and MAM on the tiny PANet panoptic model
# (width 64, GN with 8 groups).
_base_ = '../panet/panoptic-panet_r18-tiny_path-aug-fpn_2k_synthetic.py'

norm_cfg = dict(type='GN', num_groups=8, requires_grad=True)

model = dict(attention=[
    dict(
        type='PAM',
        rpn_channels=64,
        bg_channels=64,
        num_levels=4,
        reweight=True,
        norm_cfg=norm_cfg),
    dict(
        type='MAM',
        bg_channels=64,
        num_levels=4,
        strides=(4, 8, 16, 32),
        sampling_ratio=2,
        aligned=False,
        normalize=True,
        reweight=True,
        norm_cfg=norm_cfg)
])
