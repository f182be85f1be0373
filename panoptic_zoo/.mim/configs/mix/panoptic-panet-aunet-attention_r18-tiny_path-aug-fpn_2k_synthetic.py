# The mix of panoptic-panet-aunet-attention_r50_path-aug-fpn_1x_coco.py on
# the built-in dataset: AUNet's PAM and MAM on the tiny PANet panoptic model
# (width 64, GN with 8 groups).
_base_ = [
    '../panet/panoptic-panet_r18-tiny_path-aug-fpn_2k_synthetic.py',
    '../_base_/parts/aunet_attention.py'
]

norm_cfg = dict(type='GN', num_groups=8, requires_grad=True)
model = dict(attention=[
    dict(_base_.pam, norm_cfg=norm_cfg),
    dict(_base_.mam, sampling_ratio=2, aligned=False, norm_cfg=norm_cfg)
])
