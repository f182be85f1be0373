# A new mix: PANet's FG branch (path augmentation, adaptive feature pooling,
# FC fusion mask head) + AUNet's PAM and MAM on the BG features + UPSNet's
# parameter-free panoptic head with the unknown class (R50, 1x, COCO
# panoptic). The semantic head keeps one channel per thing class
# (PanopticFPNPerClassHead) so the panoptic head can read thing logits.
_base_ = './panoptic-panet-aunet-attention_r50_path-aug-fpn_1x_coco.py'

num_things_classes = 80
num_stuff_classes = 53

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
        panoptic=dict(_delete_=True, mask_overlap=0.3, stuff_area_limit=4096)))
