default_scope = 'panoptic_zoo'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # CheckpointHook's arguments; files written atomically (docs/faults.md)
    checkpoint=dict(type='AtomicCheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DetVisualizationHook'),
    # random-generator states in checkpoints: exact resume
    resume_state=dict(type='ResumeStateHook'),
    # stop at a non-finite loss or gradient norm; max_skips=N skips N steps
    nonfinite_guard=dict(type='NonFiniteGuardHook', max_skips=0),
    # SIGTERM: finish the iteration, save, exit 143
    graceful_stop=dict(type='GracefulStopHook'))
# ClassCheckHook stops a run whose model and dataset class lists differ.
custom_hooks = [dict(type='ClassCheckHook'), dict(type='ProgressBarHook')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='DetLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)

log_level = 'INFO'
load_from = None
resume = False
