# PANet + AUNet's PAM/MAM + UPSNet's panoptic head, on the built-in dataset:
# the tiny PANet panoptic model (path augmentation, adaptive feature pooling,
# FC fusion mask head) whose BG features get AUNet's attention, and whose
# semantic head gives per-thing-class logits so UPSNet's parameter-free
# panoptic head (with the unknown class) fuses the branches. No paper built it.
_base_ = [
    './panoptic-panet-aunet-attention_r18-tiny_path-aug-fpn_2k_synthetic.py',
    '../_base_/parts/upsnet_heads.py'
]

model = _base_.upsnet_fusion_on_fpn_head
