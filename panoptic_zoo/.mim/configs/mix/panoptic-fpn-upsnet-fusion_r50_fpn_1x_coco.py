# A new mix: Panoptic FPN (R50-FPN, 1x) whose BG branch keeps one channel
# per thing class (PanopticFPNPerClassHead, stuff first) so that UPSNet's
# parameter-free panoptic head, with the unknown class, replaces the
# heuristic fusion. mmdet's PanopticFPNHead merges the thing classes and
# is refused at build time by this fusion head.
_base_ = '../panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco.py'

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
