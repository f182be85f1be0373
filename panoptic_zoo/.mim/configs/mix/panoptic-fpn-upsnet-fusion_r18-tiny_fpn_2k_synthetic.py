# The mix of panoptic-fpn-upsnet-fusion_r50_fpn_1x_coco.py on the built-in
# dataset: the tiny Panoptic FPN synthetic model with a per-thing-class
# semantic head and UPSNet's panoptic head.
_base_ = '../panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'

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
