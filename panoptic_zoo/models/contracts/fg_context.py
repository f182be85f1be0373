"""What the FG (instance) branch gives the BG branch and the fusion head."""
from typing import Callable, Iterable, List, Optional, Tuple, Union

from mmengine.structures import InstanceData
from torch import Tensor

#: Fields an attention plugin may declare in ``reads`` (``feats`` is
#: always readable: the plugin's first argument is derived from it).
FIELDS = ('proposals', 'rpn_feats', 'instances')


class FGContext:
    """The FG branch's outputs, with one meaning in training and test.

    Every box is in input (batch) coordinates: the resized, padded image the
    network sees, ``(x1, y1, x2, y2)`` pixels. B images; level l of the
    neck has stride s_l and H_l × W_l cells.

    Attributes:
        feats (tuple[Tensor]): Neck features, (B, C, H_l, W_l) float per
            level, finest first.
        proposals (list[InstanceData]): Per image the RPN's proposals:
            ``bboxes`` (N_p, 4) float and ``scores`` (N_p,) float, the
            RPN's NMS output (``rpn_proposal`` settings in training,
            ``rpn`` at test). Never modified by the RoI head.
        rpn_feats (tuple[Tensor]): The RPN head's shared conv features
            after its ReLU, (B, C_r, H_l, W_l) float per level: what its
            classification and regression convs read (with grad in
            training, so a BG loss reaches the RPN).
        instances (list[InstanceData]): Per image the FG instances:
            ``bboxes`` (N, 4) float, ``labels`` (N,) int64 thing classes in
            [0, T), ``scores`` (N,) float and ``mask_logits`` (N, m, m)
            float, the mask head's logits of each instance's class (its
            only channel if class-agnostic), with grad in training. In
            training they are the non-crowd ground-truth instances (score
            1); at test the box head's detections after NMS. Computed on
            first read: a model none of whose parts reads them runs no
            extra mask head.

    Methods that run the RoI head's mask branch for a fusion head:
    :meth:`add_mask_logits` (any boxes) and :meth:`paste_masks` (the
    instances' binary masks at image size, as the mask head pastes them at
    test).
    """

    def __init__(self,
                 feats: Tuple[Tensor, ...],
                 proposals: Optional[List[InstanceData]] = None,
                 rpn_feats: Optional[Tuple[Tensor, ...]] = None,
                 instances: Union[None, List[InstanceData],
                                  Callable[[], List[InstanceData]]] = None,
                 *,
                 add_mask_logits: Optional[Callable] = None,
                 paste_masks: Optional[Callable] = None) -> None:
        # The segmentor gives every field; a unit test may give fewer, and
        # reading one it left out fails with a message (not a None).
        self.feats = feats
        self._values = dict(
            proposals=proposals, rpn_feats=rpn_feats, instances=instances)
        self._add_mask_logits = add_mask_logits
        self._paste_masks = paste_masks

    def __getattr__(self, name: str):
        values = self.__dict__.get('_values', {})
        if name not in values:
            raise AttributeError(name)
        value = values[name]
        if value is None:
            raise AttributeError(
                f'FGContext.{name} was not given to this context')
        if callable(value):  # computed on first read
            value = values[name] = value()
        return value

    def add_mask_logits(self,
                        instances: List[InstanceData]) -> List[InstanceData]:
        """Add ``mask_logits`` (N, m, m) to per-image ``bboxes`` (input
        coordinates) and ``labels``: the mask head run on those boxes,
        the channel of each label. Updates ``instances`` in place."""
        return self._branch_call('add_mask_logits', instances)

    def paste_masks(self, batch_img_metas: List[dict],
                    rescale: bool) -> List[InstanceData]:
        """:attr:`instances` as mmdet's ``roi_head.predict`` gives them:
        new per-image results with ``bboxes`` (in original-image
        coordinates when ``rescale``), ``labels``, ``scores`` and binary
        ``masks`` (N, H, W) bool at image size (the mask head's own
        ``predict_by_feat``, threshold ``mask_thr_binary``)."""
        return self._branch_call('paste_masks', batch_img_metas, rescale)

    def _branch_call(self, name: str, *args):
        function = self.__dict__[f'_{name}']
        if function is None:
            raise AttributeError(f'FGContext.{name} needs the RoI head: this '
                                 'context was built without it')
        return function(*args)

    def view(self, reads: Iterable[str], reader: str) -> 'FGView':
        """What a plugin declared it reads, and nothing else."""
        return FGView(self, tuple(reads), reader)


class FGView:
    """An :class:`FGContext` restricted to the fields a reader declared.

    Reading another field raises ``AttributeError`` naming the reader, the
    field and the fix, instead of handing out data the reader did not ask
    for (or a ``None``).
    """

    def __init__(self, context: FGContext, reads: Tuple[str, ...],
                 reader: str) -> None:
        unknown = [field for field in reads if field not in FIELDS]
        if unknown:
            raise ValueError(
                f'{reader} declares reads={reads!r}, but {unknown} are not '
                f'FGContext fields: choose among {FIELDS}')
        self._context, self._reads, self._reader = context, reads, reader

    @property
    def feats(self) -> Tuple[Tensor, ...]:
        return self._context.feats

    def __getattr__(self, name: str):
        if name.startswith('_'):
            raise AttributeError(name)
        if name in self._reads:
            return getattr(self._context, name)
        raise AttributeError(
            f'{self._reader} reads FGContext.{name} but does not declare it: '
            f'add {name!r} to its class attribute reads (now '
            f'{self._reads!r}; fields: {FIELDS})')
