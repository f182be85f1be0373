# PANet's instance branch (Liu et al., CVPR 2018), official GN variant
# (ShuLiu1993/PANet, e2e_panet_R-50-FPN_2x_mask.yaml): adaptive feature
# pooling from every level with Detectron's RoIAlign (no half-pixel shift,
# 2x2 samples per bin); box head 4 conv (GN) + 1 fc, conv1 per level, max
# fusion; mask head 4 conv (GN) + deconv, conv1 per level, max fusion, fc
# path from conv3 (conv4_fc C, conv5_fc C/2, fc 784 + ReLU). Widths flow
# from the neck; a config adds the heads' norm_cfg:
#   roi_head=dict(_base_.panet_roi_head,
#                 bbox_head=dict(_base_.panet_roi_head.bbox_head, norm_cfg=..),
#                 mask_head=dict(_base_.panet_roi_head.mask_head, norm_cfg=..))
panet_extractor = dict(
    type='AdaptiveRoIExtractor',
    roi_layer=dict(sampling_ratio=2, aligned=False))
panet_roi_head = dict(
    bbox_roi_extractor=panet_extractor,
    bbox_head=dict(
        type='AdaptiveConvFCBBoxHead',
        num_levels=4,
        fusion='max',
        num_shared_convs=4,
        num_shared_fcs=1),
    mask_roi_extractor=panet_extractor,
    mask_head=dict(
        type='FCFusionMaskHead', num_levels=4, fusion='max', fc_relu=True))
