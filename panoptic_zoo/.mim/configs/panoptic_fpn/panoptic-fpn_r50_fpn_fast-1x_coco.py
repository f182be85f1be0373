# Panoptic FPN R50-FPN 1x on COCO, the same model with its host-device
# syncs taken off the hot path: evaluation gives the base config's panoptic
# maps bit for bit (tests/configs/test_fast_config.py); training draws its
# samples on the GPU and runs in fp16 with channels-last convolutions.
_base_ = './panoptic-fpn_r50_fpn_1x_coco.py'

model = dict(
    # Batches come in pinned memory (below): the image upload can then be
    # an async DMA instead of a blocking copy.
    data_preprocessor=dict(non_blocking=True),
    # Backbone and neck in NHWC, the layout of tensor-core convolutions:
    # no cuDNN transposes around each conv; the heads still get NCHW.
    channels_last=True,
    train_cfg=dict(
        # Anchor (RPN) and RoI (R-CNN) samples drawn on the GPU: mmdet's
        # RandomSampler draws randperm on the CPU and copies it over every
        # call (~5 ms a step); same uniform draw.
        # Same assignment as MaxIoUAssigner without its per-GT host syncs
        # (about half of a step's syncs at 15 objects per image).
        rpn=dict(
            assigner=dict(type='SyncFreeMaxIoUAssigner'),
            sampler=dict(type='DeviceRandomSampler')),
        rcnn=dict(
            assigner=dict(type='SyncFreeMaxIoUAssigner'),
            sampler=dict(type='DeviceRandomSampler'))),
    # The RPN's anchors and valid flags built once per feature-map layout,
    # not at every loss and prediction.
    rpn_head=dict(anchor_generator=dict(type='CachedAnchorGenerator')),
    roi_head=dict(
        # Exact multi-class NMS on the best-scored candidates only: mmdet
        # runs one NMS per class (81 with a low score_thr) for the 100
        # detections it keeps.
        bbox_head=dict(type='TopKNMSShared2FCBBoxHead'),
        # Mask targets cropped on the GPU from one copy of each image's gt
        # masks: mmdet's go through the CPU twice per image.
        mask_head=dict(type='SyncFreeFCNMaskHead')),
    # mmdet's heuristic fusion result without ~3 host syncs per detection
    # (~300 an image at 100 detections) and its per-detection full maps.
    panoptic_fusion_head=dict(type='SyncFreeHeuristicFusionHead'))

optim_wrapper = dict(
    # Mixed precision: convolutions and matmuls on fp16 tensor cores, about
    # half the activation memory; the SGD optimizer of the base is kept.
    type='AmpOptimWrapper',
    # fp16, not bf16: mmcv 2.1's RoIAlign CUDA kernel has no bf16 version
    # ("not implemented for 'BFloat16'", checked on the H100).
    dtype='float16',
    # fp16 needs loss scaling (its inf check is one sync a step).
    loss_scale='dynamic')

# cuDNN times its algorithms once per input shape and keeps the fastest:
# shapes repeat (images padded to multiples of 32), so the first steps of
# each new shape pay for faster steps after.
env_cfg = dict(cudnn_benchmark=True)

# At ~0.1 s a step for 2 images the loader must decode and augment ~20
# images/s with their panoptic PNGs: twice the base's workers; batches
# pinned by the loader's pin thread, off the training loop.
train_dataloader = dict(num_workers=4, pin_memory=True)
