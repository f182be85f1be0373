"""Use a trained model from Python: :class:`PanopticInferencer`."""
from .inference import (PanopticInferencer, PanopticResult,
                        PredictionWriter, run_inference)
from .inputs import expand_inputs

__all__ = [
    'PanopticInferencer', 'PanopticResult', 'PredictionWriter',
    'expand_inputs', 'run_inference'
]
