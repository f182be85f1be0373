# A new mix: AUNet (R50-FPN, 1x, COCO panoptic: GN branches, PAM + MAM with
# reweight, semantic loss 0.3) with UPSNet's parameter-free panoptic head in
# place of the category-relation fusion. The semantic head keeps one channel
# per thing class (PanopticFPNPerClassHead) for it.
_base_ = [
    '../aunet/aunet_r50_fpn_1x_coco.py', '../_base_/parts/upsnet_heads.py'
]

model = _base_.upsnet_fusion_on_fpn_head
