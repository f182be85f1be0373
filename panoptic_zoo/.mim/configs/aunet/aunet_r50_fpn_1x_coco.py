# AUNet R50-FPN on COCO panoptic (Li et al., "Attention-guided Unified
# Network for Panoptic Segmentation", CVPR 2019): Panoptic FPN with GN in
# the FG and BG branches, the Proposal Attention Module (PAM, eq. 1-4) and
# the Mask Attention Module (MAM, RoIUpsample eq. 5-6) on the BG features,
# both with background reweight, and the category-relation fusion.
# Loss weights λ: RPN 1, RCNN 1, mask 1, semantic 0.3.
# MAM's RoIUpsample uses the paper's normalised weights (normalize=True,
# eq. 5-6): it is the operation the paper defines; the exact adjoint of
# RoIAlign is the op's default and an ablation row (aunet-exact-upsample_*).
# No official code exists (FIDELITY.md §9); the schedule is Panoptic FPN's
# 1x (12 epochs, batch 16), not the paper's.
_base_ = [
    '../panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco.py',
    '../_base_/parts/aunet_attention.py'
]

norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)

# COCO's thing names in label order (mmdet's CocoPanopticDataset METAINFO):
# the fusion head checks the relation table against them.
thing_classes = ('person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus',
                 'train', 'truck', 'boat', 'traffic light', 'fire hydrant',
                 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog',
                 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra',
                 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie',
                 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball',
                 'kite', 'baseball bat', 'baseball glove', 'skateboard',
                 'surfboard', 'tennis racket', 'bottle', 'wine glass', 'cup',
                 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple',
                 'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog',
                 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant',
                 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse',
                 'remote', 'keyboard', 'cell phone', 'microwave', 'oven',
                 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase',
                 'scissors', 'teddy bear', 'hair drier', 'toothbrush')
# (small, large): a small instance lying on a larger one of the second
# class stays on top instead of being dropped as an overlap. Source: the
# paper's example (a tie on a person) and, chosen by hand in the same
# spirit, COCO things annotated inside a larger thing's silhouette:
# accessories worn by people and tableware on dining tables. Not learned
# from data; edit freely.
relations = [('tie', 'person'), ('backpack', 'person'), ('handbag', 'person'),
             ('cell phone', 'person'), ('cup', 'dining table'),
             ('wine glass', 'dining table'), ('bottle', 'dining table'),
             ('bowl', 'dining table'), ('fork', 'dining table'),
             ('knife', 'dining table'), ('spoon', 'dining table')]

model = dict(
    roi_head=dict(
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)),
    semantic_head=dict(
        norm_cfg=norm_cfg,
        loss_seg=dict(
            type='CrossEntropyLoss', ignore_index=255, loss_weight=0.3)),
    attention=[
        dict(_base_.pam, norm_cfg=norm_cfg),
        dict(_base_.mam, norm_cfg=norm_cfg)
    ],
    panoptic_fusion_head=dict(
        _delete_=True,
        type='AUNetFusionHead',
        thing_classes=thing_classes,
        relations=relations))
