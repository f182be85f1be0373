# PANet panoptic on the built-in dataset: the PANet parts of
# panoptic-panet_r50_path-aug-fpn_1x_coco.py on the tiny Panoptic FPN
# (ResNet-18 base width 16, width-64 neck and heads, GN with 8 groups, 320 px,
# 2000 iterations), so the two synthetic models differ only in those parts.
_base_ = '../panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'

width = 64  # neck / head channels, as in the base
norm_cfg = dict(type='GN', num_groups=8, requires_grad=True)
legacy_roi_align = dict(sampling_ratio=2, aligned=False)

model = dict(
    neck=dict(type='PANetPathAug', norm_cfg=norm_cfg),
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
