# Panoptic FPN R50-FPN 1x on COCO, the same model with its host-device
# syncs taken off the hot path: evaluation gives the base config's panoptic
# maps bit for bit (tests/configs/test_fast_config.py); training draws its
# samples on the GPU and runs in bf16.
_base_ = './panoptic-fpn_r50_fpn_1x_coco.py'

model = dict(
    train_cfg=dict(
        # Anchor (RPN) and RoI (R-CNN) samples drawn on the GPU: mmdet's
        # RandomSampler draws randperm on the CPU and copies it over every
        # call (~5 ms a step); same uniform draw.
        rpn=dict(sampler=dict(type='DeviceRandomSampler')),
        rcnn=dict(sampler=dict(type='DeviceRandomSampler'))),
    # mmdet's heuristic fusion result without ~3 host syncs per detection
    # (~300 an image at 100 detections) and its per-detection full maps.
    panoptic_fusion_head=dict(type='SyncFreeHeuristicFusionHead'))

optim_wrapper = dict(
    # Mixed precision: convolutions and matmuls on bf16 tensor cores, about
    # half the activation memory; the SGD optimizer of the base is kept.
    type='AmpOptimWrapper',
    # bf16, not fp16: fp32's exponent range, so no overflow to guard.
    dtype='bfloat16',
    # Hence no loss scaling: a GradScaler would only add its inf check, an
    # .item() sync every step.
    loss_scale=dict(enabled=False))

# cuDNN times its algorithms once per input shape and keeps the fastest:
# shapes repeat (images padded to multiples of 32), so the first steps of
# each new shape pay for faster steps after.
env_cfg = dict(cudnn_benchmark=True)
