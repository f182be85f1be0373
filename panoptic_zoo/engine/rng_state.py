"""Every global random-number state a training step reads, as plain tensors.

A resumed run can only repeat an uninterrupted one if the data pipeline and
the model draw the same random numbers after the resume: Python's ``random``
(mmcv transforms), numpy's global generator (mmdet transforms, samplers),
torch's CPU generator (samplers, dropout, init) and every CUDA device's.

The states are stored as tensors, ints and tuples only, so a checkpoint that
holds them still loads with ``torch.load(weights_only=True)``.
"""
import random
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch


def capture_rng_state() -> dict:
    """The current state of every global generator."""
    version, mt_state, gauss_next = random.getstate()
    kind, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    state = dict(
        python=(version, tuple(mt_state), gauss_next),
        numpy=dict(
            kind=kind,
            keys=torch.from_numpy(keys.astype(np.int64)),
            pos=int(pos),
            has_gauss=int(has_gauss),
            cached_gaussian=float(cached_gaussian)),
        torch=torch.get_rng_state(),
    )
    # Asking for the CUDA states would initialise CUDA in a CPU-only run.
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    """Put back the generators captured by :func:`capture_rng_state`."""
    version, mt_state, gauss_next = state['python']
    random.setstate((version, tuple(mt_state), gauss_next))
    np_state = state['numpy']
    np.random.set_state(
        (np_state['kind'], np_state['keys'].numpy().astype(np.uint32),
         np_state['pos'], np_state['has_gauss'],
         np_state['cached_gaussian']))
    torch.set_rng_state(state['torch'])
    cuda_states = state.get('cuda')
    if cuda_states and torch.cuda.is_available():
        if len(cuda_states) != torch.cuda.device_count():
            raise RuntimeError(
                f'the checkpoint holds {len(cuda_states)} CUDA generator '
                f'states but {torch.cuda.device_count()} devices are '
                'visible: resume with the same CUDA_VISIBLE_DEVICES')
        torch.cuda.set_rng_state_all(cuda_states)


@contextmanager
def isolated_rng() -> Iterator[None]:
    """Run a block (validation, a picture) without moving the generators
    that training reads next."""
    state = capture_rng_state()
    try:
        yield
    finally:
        restore_rng_state(state)
