# A new mix: PANet's FG branch (path augmentation, adaptive feature pooling,
# FC fusion mask head) + AUNet's PAM and MAM on the BG features + UPSNet's
# parameter-free panoptic head with the unknown class (R50, 1x, COCO
# panoptic). The semantic head keeps one channel per thing class
# (PanopticFPNPerClassHead) so the panoptic head can read thing logits.
_base_ = [
    './panoptic-panet-aunet-attention_r50_path-aug-fpn_1x_coco.py',
    '../_base_/parts/upsnet_heads.py'
]

model = _base_.upsnet_fusion_on_fpn_head
