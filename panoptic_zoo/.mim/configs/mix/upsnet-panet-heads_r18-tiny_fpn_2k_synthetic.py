# UPSNet with PANet's instance branch, on the built-in dataset: the tiny
# UPSNet (FPN, UPSNet semantic head, parameter-free panoptic head) whose RoI
# head pools every RoI from every level (adaptive feature pooling, max
# fusion) and whose mask head is PANet's FC fusion head. The panoptic loss
# trains the FC fusion path through the mask logits. No paper built it.
_base_ = '../upsnet/upsnet_r18-tiny_fpn_2k_synthetic.py'

width = 64  # FPN / head channels, as in the base
norm_cfg = dict(type='GN', num_groups=8, requires_grad=True)
legacy_roi_align = dict(sampling_ratio=2, aligned=False)

model = dict(
    roi_head=dict(
        bbox_roi_extractor=dict(
            type='AdaptiveRoIExtractor', roi_layer=legacy_roi_align),
        bbox_head=dict(
            type='AdaptiveConvFCBBoxHead',
            num_levels=4,
            fusion='max',
            num_shared_convs=4,
            num_shared_fcs=1,
            conv_out_channels=width,
            norm_cfg=norm_cfg),
        mask_roi_extractor=dict(
            type='AdaptiveRoIExtractor', roi_layer=legacy_roi_align),
        mask_head=dict(
            type='FCFusionMaskHead',
            num_levels=4,
            fusion='max',
            fc_conv_channels=(width, width // 2),
            fc_relu=True,
            norm_cfg=norm_cfg)))
