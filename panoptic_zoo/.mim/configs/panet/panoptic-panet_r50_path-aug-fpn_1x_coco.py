# PANet (Liu et al., CVPR 2018) made panoptic: its FG parts (bottom-up path
# augmentation, adaptive feature pooling, fully-connected fusion mask head)
# on the Panoptic FPN meta-architecture (semantic FPN head + heuristic
# fusion), COCO panoptic, 1x. Data, schedule and the BG branch are Panoptic
# FPN's, so the two compare part for part. Settings of the official GN
# variant (ShuLiu1993/PANet, e2e_panet_R-50-FPN_2x_mask.yaml): GN everywhere
# outside the frozen-BN backbone, the 4conv1fc GN box head, legacy RoIAlign.
_base_ = [
    '../panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco.py',
    '../_base_/parts/panet_heads.py'
]

norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)
model = dict(
    # N2 = P2, N(i+1) = ReLU(GN(conv(P(i+1) + ReLU(GN(conv_s2(N(i)))))));
    # P6 = maxpool(N5) for the RPN.
    neck=dict(type='PANetPathAug', norm_cfg=norm_cfg),
    roi_head=dict(
        _base_.panet_roi_head,
        bbox_head=dict(_base_.panet_roi_head.bbox_head, norm_cfg=norm_cfg),
        mask_head=dict(_base_.panet_roi_head.mask_head, norm_cfg=norm_cfg)))

# Official solver: linear warm-up from 1/3 over 500 iterations (1x's
# steps), biases at 2x lr without weight decay, no weight decay on GN.
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1.0 / 3),
    _base_.param_scheduler[1]
]
optim_wrapper = dict(
    paramwise_cfg=dict(
        norm_decay_mult=0., bias_lr_mult=2., bias_decay_mult=0.))
