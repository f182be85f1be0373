# A mix: AUNet's FG→BG attention (PAM and MAM, both with background
# reweight, RoIUpsample with the paper's eq. 5-6 weights) on the PANet
# panoptic model (path augmentation, adaptive feature pooling, FC fusion
# mask head, semantic FPN head, heuristic fusion), COCO panoptic, 1x.
# MAM pastes the masks back with PANet's legacy RoIAlign convention
# (aligned=False, 2 samples per bin), the one its mask head pooled with.
_base_ = [
    '../panet/panoptic-panet_r50_path-aug-fpn_1x_coco.py',
    '../_base_/parts/aunet_attention.py'
]

norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)
model = dict(attention=[
    dict(_base_.pam, norm_cfg=norm_cfg),
    dict(_base_.mam, sampling_ratio=2, aligned=False, norm_cfg=norm_cfg)
])
