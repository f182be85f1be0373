# PANet (Liu et al., CVPR 2018) made panoptic: its FG parts (bottom-up path
# augmentation, adaptive feature pooling, fully-connected fusion mask head)
# on the Panoptic FPN meta-architecture (semantic FPN head + heuristic
# fusion), COCO panoptic, 1x. Data, schedule and the BG branch are Panoptic
# FPN's, so the two compare part for part. Settings of the official GN
# variant (ShuLiu1993/PANet, e2e_panet_R-50-FPN_2x_mask.yaml): GN everywhere
# outside the frozen-BN backbone, the 4conv1fc GN box head, legacy RoIAlign.
_base_ = '../panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco.py'

norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)
# Detectron's RoIAlign: no half-pixel shift, 2x2 samples per bin.
legacy_roi_align = dict(sampling_ratio=2, aligned=False)

model = dict(
    # N2 = P2, N(i+1) = ReLU(GN(conv(P(i+1) + ReLU(GN(conv_s2(N(i)))))));
    # P6 = maxpool(N5) for the RPN.
    neck=dict(type='PANetPathAug', norm_cfg=norm_cfg),
    roi_head=dict(
        bbox_roi_extractor=dict(
            type='AdaptiveRoIExtractor', roi_layer=legacy_roi_align),
        # Official default box head: 4 conv (GN) + 1 fc, conv1 per level,
        # max fusion.
        bbox_head=dict(
            type='AdaptiveConvFCBBoxHead',
            num_levels=4,
            fusion='max',
            num_shared_convs=4,
            num_shared_fcs=1,
            conv_out_channels=256,
            norm_cfg=norm_cfg),
        mask_roi_extractor=dict(
            type='AdaptiveRoIExtractor', roi_layer=legacy_roi_align),
        # 4 conv (GN) + deconv, conv1 per level, max fusion; fc path from
        # conv3: conv4_fc 256, conv5_fc 128, fc 784 + ReLU.
        mask_head=dict(
            type='FCFusionMaskHead',
            num_levels=4,
            fusion='max',
            fc_conv_channels=(256, 128),
            fc_relu=True,
            norm_cfg=norm_cfg)))

# Official solver: linear warm-up from 1/3 over 500 iterations, biases at
# 2x lr without weight decay, no weight decay on GN.
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0 / 3,
        by_epoch=False,
        begin=0,
        end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=12,
        by_epoch=True,
        milestones=[8, 11],
        gamma=0.1)
]
optim_wrapper = dict(
    paramwise_cfg=dict(
        norm_decay_mult=0., bias_lr_mult=2., bias_decay_mult=0.))
