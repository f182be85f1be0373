# UPSNet's heads (Xiong et al., CVPR 2019), with the paper's COCO loss
# weights (semantic 0.2, RoI 0.04, panoptic 0.1); class counts and widths
# come from the model they are put in.
#
# The semantic head: a shared stack of 3 deformable convs (DCN v1) over
# the FPN levels, the RoI loss on the thing logits.
upsnet_semantic_head = dict(
    type='UPSNetSemanticHead',
    num_convs=3,
    conv_cfg=dict(type='DCN', deform_groups=1),
    norm_cfg=None,
    loss_seg=dict(
        type='CrossEntropyLoss',
        ignore_index=255,
        avg_non_ignore=True,
        loss_weight=0.2),
    loss_roi=dict(type='CrossEntropyLoss', ignore_index=255, loss_weight=0.04))

# The parameter-free panoptic head with the unknown class, for a model whose
# semantic head gives one logit per thing class; its class counts are the
# semantic head's. A config that lists this file in its _base_ uses it as
#   panoptic_fusion_head=dict(_delete_=True, **_base_.upsnet_panoptic_head)
# with test_cfg.panoptic.mask_overlap=0.3 (UPSNet's).
# Without the unknown class (the paper's ablation): keep_fraction=1.0,
# with_unknown=False.
upsnet_panoptic_head = dict(
    type='UPSNetPanopticHead',
    keep_fraction=0.7,
    with_unknown=True,
    loss_panoptic=dict(
        type='CrossEntropyLoss', ignore_index=255, loss_weight=0.1))
# The model overlay of the mixes that put it on a semantic FPN head giving
# per-thing-class logits: model = _base_.upsnet_fusion_on_fpn_head
upsnet_fusion_on_fpn_head = dict(
    semantic_head=dict(type='PanopticFPNPerClassHead'),
    panoptic_fusion_head=dict(_delete_=True, **upsnet_panoptic_head),
    test_cfg=dict(panoptic=dict(mask_overlap=0.3)))
