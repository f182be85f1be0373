# AUNet with UPSNet's panoptic head instead of category-relation fusion, on
# the built-in dataset: the tiny AUNet (GN heads, PAM + MAM with reweight,
# semantic loss 0.3) whose semantic head keeps one channel per thing class,
# so the branches are fused by logits (with the unknown class) rather than
# by the heuristic with relations. No paper built it.
_base_ = [
    '../aunet/aunet_r18-tiny_fpn_2k_synthetic.py',
    '../_base_/parts/upsnet_heads.py'
]

model = _base_.upsnet_fusion_on_fpn_head
