"""Runner-side helpers: hooks and checkpoint loading."""
import mmdet.engine  # noqa: F401  (fills the parent registry)

from .atomic_checkpoint_hook import AtomicCheckpointHook
from .checkpoint import allow_mmengine_checkpoints
from .class_check_hook import ClassCheckHook
from .graceful_stop_hook import GracefulStopHook
from .logger_hook import LoggerHook
from .nonfinite_guard_hook import NonFiniteGuardHook
from .output_hook import PanopticOutputHook
from .picture_hook import PanopticPictureHook
from .progress_hook import ProgressBarHook
from .resume_state_hook import ResumeStateHook

# Runner.resume / load_from go through torch.load: make them work as soon as
# the runner imports our hooks.
allow_mmengine_checkpoints()

__all__ = [
    'allow_mmengine_checkpoints', 'AtomicCheckpointHook', 'ClassCheckHook',
    'GracefulStopHook', 'LoggerHook', 'NonFiniteGuardHook',
    'PanopticOutputHook', 'PanopticPictureHook', 'ProgressBarHook',
    'ResumeStateHook'
]
