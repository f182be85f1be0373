"""Count mmcv ``nms`` calls: how tests tell a per-class NMS loop from one
call per image."""
import contextlib
import importlib
from typing import Iterator, List
from unittest import mock


@contextlib.contextmanager
def counting_nms_calls() -> Iterator[List[int]]:
    """Within the block, every call of ``mmcv.ops.nms.nms`` appends to the
    yielded list. mmcv's ``batched_nms`` and ``multiclass_nms_topk`` look
    ``nms`` up on that module at call time (the package attribute
    ``mmcv.ops.nms`` is the function, not the module)."""
    module = importlib.import_module('mmcv.ops.nms')
    calls: List[int] = []
    original = module.nms

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    with mock.patch.object(module, 'nms', counting):
        yield calls
