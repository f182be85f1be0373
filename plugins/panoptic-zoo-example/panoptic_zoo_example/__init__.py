"""An example panoptic_zoo plugin package.

panoptic_zoo imports this module through the ``panoptic_zoo.plugins`` entry
point of ``setup.cfg``; importing the component modules registers them in
panoptic_zoo's registries, so configs name them by ``type=``.
"""
from pathlib import Path

from .proposal_gate_attention import (ProposalGateAttention,
                                      proposal_occupancy)
from .semantic_check_fusion_head import (SemanticCheckFusionHead,
                                         thing_agreement)

__version__ = '0.1.0'

#: Configs shipped with the package (``configs/*.py``).
CONFIG_DIR = Path(__file__).resolve().parent / 'configs'

__all__ = [
    'CONFIG_DIR', 'ProposalGateAttention', 'SemanticCheckFusionHead',
    'proposal_occupancy', 'thing_agreement'
]
