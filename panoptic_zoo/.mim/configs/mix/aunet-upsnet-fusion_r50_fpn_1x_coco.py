# A new mix: AUNet (R50-FPN, 1x, COCO panoptic: GN branches, PAM + MAM with
# reweight, semantic loss 0.3) with UPSNet's parameter-free panoptic head in
# place of the category-relation fusion. The semantic head keeps one channel
# per thing class (PanopticFPNPerClassHead) for it.
_base_ = '../aunet/aunet_r50_fpn_1x_coco.py'

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
