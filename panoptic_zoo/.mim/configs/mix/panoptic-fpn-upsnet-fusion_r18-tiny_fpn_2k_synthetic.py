# The mix of panoptic-fpn-upsnet-fusion_r50_fpn_1x_coco.py on the built-in
# dataset: the tiny Panoptic FPN synthetic model with a per-thing-class
# semantic head and UPSNet's panoptic head.
_base_ = [
    '../panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py',
    '../_base_/parts/upsnet_heads.py'
]

model = _base_.upsnet_fusion_on_fpn_head
