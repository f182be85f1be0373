"""Model size, FLOPs per image, and the model FLOP utilisation (MFU).

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` (one
multiply-add = 2 FLOPs; convolutions, matmuls, linear layers, batched
matmuls, attention), at batch 1, twice:

- ``predict``: over the timed inference call, ``model(..., mode='predict')``
  (fusion included) under the benchmark's full load (every model keeps
  ``max_per_img`` detections, see :mod:`.build`). This is the number the
  MFU uses: the work the measured time paid for.
- ``_forward``: over ``model._forward(inputs, data_samples)`` (backbone,
  neck, RPN, the RoI heads on the test-time proposals, the mask head on the
  first 100, semantic head; mmdet's convention). For models without
  mask attention both agree; with MAM, ``_forward`` also runs the mask
  head on the detections MAM pastes (``FGContext.proposal_instances``,
  from the same box outputs), and the convention's mask head on 100
  proposals makes it higher than the work of a prediction.

mmcv's deformable convolutions run outside aten, so the counter sees none
of their work; they are added by forward hooks as the dense convolution of
the same shape (``2 * C_in / groups * C_out * k_h * k_w * H_out * W_out``
per image). RoIAlign, NMS and other index work are not counted.
"""
import re
from typing import Optional, Tuple

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

FLOP_COUNTER = (
    'torch.utils.flop_counter.FlopCounterMode at batch 1 over the timed '
    "model(..., mode='predict') (fusion included; used for the MFU), and "
    'over model._forward(inputs, data_samples) (mmdet\'s convention); mmcv '
    'deformable convs added as dense convs of the same shape')

# Dense (no sparsity) peak TFLOPS from NVIDIA's datasheets: (pattern on
# torch.cuda.get_device_name, label, {precision: TFLOPS}). 'tf32' applies to
# fp32 runs where cuDNN may use TF32 (torch's default for convolutions),
# 'fp32' where it may not; 'bf16' / 'fp16' to AMP. First match wins.
PEAK_TFLOPS = (
    (r'H200 NVL', 'H200 NVL',
     dict(fp32=60.0, tf32=417.5, bf16=835.5, fp16=835.5)),
    (r'H200', 'H200 SXM', dict(fp32=67.0, tf32=494.7, bf16=989.4, fp16=989.4)),
    (r'H100 NVL', 'H100 NVL',
     dict(fp32=60.0, tf32=417.5, bf16=835.5, fp16=835.5)),
    (r'H100.*PCIe', 'H100 PCIe',
     dict(fp32=51.0, tf32=378.0, bf16=756.5, fp16=756.5)),
    (r'H100', 'H100 SXM', dict(fp32=67.0, tf32=494.7, bf16=989.4, fp16=989.4)),
    (r'A100', 'A100 (SXM4 / PCIe)',
     dict(fp32=19.5, tf32=156.0, bf16=312.0, fp16=312.0)),
)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _deform_conv_types() -> Tuple[type, ...]:
    try:
        from mmcv.ops import DeformConv2d, ModulatedDeformConv2d
    except ImportError:  # mmcv without compiled ops
        return ()
    return (DeformConv2d, ModulatedDeformConv2d)


def _dense_conv_flops(module: nn.Module, output: torch.Tensor) -> int:
    kh, kw = module.kernel_size
    n, c_out, h, w = output.shape
    return 2 * n * (module.in_channels // module.groups) * c_out * kh * kw \
        * h * w


def count_flops(fn, model: nn.Module) -> int:
    """FLOPs of ``fn()`` (which runs ``model``), see the module docstring.

    Args:
        fn (callable): Runs the forward to count, e.g.
            ``lambda: model._forward(inputs, data_samples)``.
        model (nn.Module): The model whose deformable convs are hooked.
    """
    extra = [0]
    types = _deform_conv_types()

    def hook(module, args, output):
        extra[0] += _dense_conv_flops(module, output)

    handles = [
        m.register_forward_hook(hook) for m in model.modules()
        if types and isinstance(m, types)
    ]
    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            fn()
    finally:
        for handle in handles:
            handle.remove()
    return int(counter.get_total_flops()) + extra[0]


def forward_flops(model: nn.Module, data: dict) -> int:
    """FLOPs of one ``model._forward`` on a preprocessed batch (eval mode)."""
    was_training = model.training
    model.eval()
    try:
        return count_flops(
            lambda: model._forward(data['inputs'], data['data_samples']),
            model)
    finally:
        model.train(was_training)


def predict_flops(model: nn.Module, data: dict) -> int:
    """FLOPs of one ``model(**data, mode='predict')`` (eval mode)."""
    was_training = model.training
    model.eval()
    try:
        return count_flops(lambda: model(**data, mode='predict'), model)
    finally:
        model.train(was_training)


def peak_flops(device_name: str,
               precision: str,
               tf32: bool = True) -> Tuple[Optional[float], str]:
    """Peak FLOP/s of a GPU for a precision, or None with the reason.

    Args:
        device_name (str): ``torch.cuda.get_device_name()``, or ``'cpu'``.
        precision (str): ``'fp32'``, ``'bf16'`` or ``'fp16'``.
        tf32 (bool): fp32 runs may use TF32 (cuDNN's default).

    Returns:
        tuple: (FLOP/s or None, what the number is / why it is missing).
    """
    key = 'tf32' if precision == 'fp32' and tf32 else precision
    for pattern, label, table in PEAK_TFLOPS:
        if re.search(pattern, device_name, flags=re.IGNORECASE):
            return table[key] * 1e12, \
                f'{label} dense {key.upper()} {table[key]} TFLOPS'
    return None, f'no peak FLOPS known for device {device_name!r}'


def mfu(flops_per_image: float,
        images: float,
        seconds: float,
        peak: Optional[float],
        passes: float = 1.0) -> Optional[float]:
    """Model FLOP utilisation: ``passes * flops * images / seconds / peak``.

    Training uses ``passes=3`` (forward + backward = 3 forwards), images =
    the batch and seconds = the step time; inference ``passes=1`` with the
    per-image latency. None when the peak is unknown.
    """
    if peak is None:
        return None
    if seconds <= 0 or peak <= 0:
        raise ValueError(f'mfu needs positive seconds and peak, got '
                         f'{seconds} and {peak}')
    return passes * flops_per_image * images / seconds / peak
