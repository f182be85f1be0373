# A new mix: Panoptic FPN (R50-FPN, 1x) whose BG branch keeps one channel
# per thing class (PanopticFPNPerClassHead, stuff first) so that UPSNet's
# parameter-free panoptic head, with the unknown class, replaces the
# heuristic fusion. mmdet's PanopticFPNHead merges the thing classes and
# is refused at build time by this fusion head.
_base_ = [
    '../panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco.py',
    '../_base_/parts/upsnet_heads.py'
]

model = _base_.upsnet_fusion_on_fpn_head
