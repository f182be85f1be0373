"""The panoptic fusion head slot: one interface for every fusion head."""
from abc import abstractmethod
from typing import Dict, List

from mmdet.models.seg_heads.panoptic_fusion_heads import \
    BasePanopticFusionHead
from mmdet.structures import SampleList
from mmdet.utils import PixelList
from torch import Tensor

from .fg_context import FGContext
from .semantic_head import SemanticLogits


class PanopticFusionHead(BasePanopticFusionHead):
    """Contract of a fusion head: the same two calls for every head.

    - ``loss(fg, seg, batch_data_samples) -> dict``: its losses in training
      (an empty dict for a head without parameters or loss).
    - ``predict(fg, seg, batch_img_metas, rescale) -> list[PixelData]``:
      per image ``sem_seg`` (1, H, W) int64 in mmdet's encoding,
      ``label + instance_id * INSTANCE_OFFSET``, void = T + S; at
      ``ori_shape`` when ``rescale``, else at ``img_shape``.

    ``fg`` is the :class:`FGContext` (instances with mask logits in input
    coordinates, :meth:`FGContext.paste_masks` for binary masks at image
    size, :meth:`FGContext.add_mask_logits` for other boxes); ``seg`` the
    semantic head's :class:`SemanticLogits`. A head that needs one logit
    channel per thing class (K = T) declares
    ``needs_thing_logits_per_class = True``; the build checks it against
    the semantic head.

    ``num_things_classes``, ``num_stuff_classes`` and ``test_cfg``
    (``model.test_cfg.panoptic``) come from mmdet's base class.
    """

    #: Whether :meth:`predict` / :meth:`loss` read K = T thing channels.
    needs_thing_logits_per_class = False

    def loss(self, fg: FGContext, seg: SemanticLogits,
             batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """No loss: a head with parameters or a loss overrides this."""
        return {}

    @abstractmethod
    def predict(self, fg: FGContext, seg: SemanticLogits,
                batch_img_metas: List[dict], rescale: bool) -> PixelList:
        """Panoptic maps of a batch (see the class docstring)."""
