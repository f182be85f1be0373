"""Runner-side helpers: hooks and checkpoint loading."""
import mmdet.engine  # noqa: F401  (fills the parent registry)

from .checkpoint import allow_mmengine_checkpoints
from .class_check_hook import ClassCheckHook
from .output_hook import PanopticOutputHook
from .picture_hook import PanopticPictureHook
from .progress_hook import ProgressBarHook

# Runner.resume / load_from go through torch.load: make them work as soon as
# the runner imports our hooks.
allow_mmengine_checkpoints()

__all__ = [
    'allow_mmengine_checkpoints', 'ClassCheckHook', 'PanopticOutputHook',
    'PanopticPictureHook', 'ProgressBarHook'
]
