"""mmdet's RPN head with the RPN slot's contract: it also gives the
features its convs read."""
from typing import List, Tuple

import torch.nn.functional as F
from mmdet.models.dense_heads import RPNHead as MMDetRPNHead
from torch import Tensor

from panoptic_zoo.registry import MODELS


@MODELS.register_module()
class RPNHead(MMDetRPNHead):
    """mmdet's ``RPNHead`` (same weights, same outputs) split in two steps,
    so the segmentor can hand the shared features to FG→BG attention
    (AUNet's PAM) without a hook:

    - :meth:`forward_feats`: ``ReLU(rpn_conv(x_l))`` per level,
      (B, C_r, H_l, W_l);
    - :meth:`forward_outs`: the classification and regression convs on
      them, mmdet's ``forward`` output.
    """

    def forward_feats(self, x: Tuple[Tensor, ...]) -> Tuple[Tensor, ...]:
        """Shared features per level, what ``rpn_cls``/``rpn_reg`` read."""
        return tuple(F.relu(self.rpn_conv(level)) for level in x)

    def forward_outs(self, feats: Tuple[Tensor, ...]
                     ) -> Tuple[List[Tensor], List[Tensor]]:
        """``(cls_scores, bbox_preds)``, one tensor per level."""
        return ([self.rpn_cls(f) for f in feats],
                [self.rpn_reg(f) for f in feats])

    def forward(self, x: Tuple[Tensor, ...]
                ) -> Tuple[List[Tensor], List[Tensor]]:
        return self.forward_outs(self.forward_feats(x))
