# A new mix: UPSNet (R50-FPN, deformable semantic head, parameter-free
# panoptic head, 90k iterations, COCO panoptic) with PANet's instance
# branch: adaptive feature pooling for boxes and masks (max fusion, legacy
# RoIAlign) and the FC fusion mask head, whose logits UPSNet's panoptic
# head reads and trains.
_base_ = '../upsnet/upsnet_r50_fpn_90k_coco.py'

norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)
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
            conv_out_channels=256,
            norm_cfg=norm_cfg),
        mask_roi_extractor=dict(
            type='AdaptiveRoIExtractor', roi_layer=legacy_roi_align),
        mask_head=dict(
            type='FCFusionMaskHead',
            num_levels=4,
            fusion='max',
            fc_conv_channels=(256, 128),
            fc_relu=True,
            norm_cfg=norm_cfg)))
