# PANet + AUNet's PAM/MAM + UPSNet's panoptic head, on the built-in dataset:
# the tiny PANet panoptic model (path augmentation, adaptive feature pooling,
# FC fusion mask head) whose BG features get AUNet's attention, and whose
# semantic head gives per-thing-class logits so UPSNet's parameter-free
# panoptic head (with the unknown class) fuses the branches. No paper built it.
_base_ = './panoptic-panet-aunet-attention_r18-tiny_path-aug-fpn_2k_synthetic.py'

num_things_classes = 4
num_stuff_classes = 3

model = dict(
    semantic_head=dict(type='PanopticFPNPerClassHead'),
    panoptic_fusion_head=dict(
        _delete_=True,
        type='UPSNetPanopticHead',
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes,
        keep_fraction=0.7,
        with_unknown=True,
        loss_panoptic=dict(
            type='CrossEntropyLoss', ignore_index=255, loss_weight=0.1)),
    test_cfg=dict(
        panoptic=dict(_delete_=True, mask_overlap=0.3, stuff_area_limit=64)))
