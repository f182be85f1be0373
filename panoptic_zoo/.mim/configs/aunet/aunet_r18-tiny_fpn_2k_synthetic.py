# AUNet on the built-in dataset: the parts of aunet_r50_fpn_1x_coco.py (GN
# heads, PAM and MAM with reweight, normalised RoIUpsample, semantic loss
# 0.3, category-relation fusion) on the tiny Panoptic FPN (ResNet-18 base
# width 16, width-64 neck and heads, GN with 8 groups, 320 px, 2000
# iterations). The ablation rows (aunet-*_r18-tiny_fpn_2k_synthetic.py)
# change only model.attention.
_base_ = [
    '../panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py',
    '../_base_/parts/aunet_attention.py'
]

norm_cfg = dict(type='GN', num_groups=8, requires_grad=True)
pam = dict(_base_.pam, norm_cfg=norm_cfg)
mam = dict(_base_.mam, norm_cfg=norm_cfg)

model = dict(
    roi_head=dict(
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)),
    semantic_head=dict(
        loss_seg=dict(
            type='CrossEntropyLoss', ignore_index=255, loss_weight=0.3)),
    attention=[pam, mam],
    panoptic_fusion_head=dict(
        _delete_=True,
        type='AUNetFusionHead',
        # The dataset's thing names (SYNTHETIC_METAINFO), label order.
        thing_classes=('circle', 'square', 'triangle', 'cross'),
        # The shapes have no real relation: one pair exercises the code.
        relations=[('cross', 'square')]))
