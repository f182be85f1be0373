"""FG→BG attention plugins (``PanopticSegmentor.attention``): AUNet's PAM
and MAM, and their background reweight."""
from .background_reweight import BackgroundReweight
from .base_fg_attention import BaseFGAttention, suppress_foreground
from .mam import MAM, fpn_roi_levels
from .pam import PAM

__all__ = [
    'BackgroundReweight', 'BaseFGAttention', 'suppress_foreground', 'MAM',
    'fpn_roi_levels', 'PAM'
]
