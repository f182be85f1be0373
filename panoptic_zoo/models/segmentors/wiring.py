"""Widths and strides flow from the neck: the one declaration of what each
slot reads from the others.

A head's input width is not a free choice: it is what the neck gives. So
a config states the neck's ``out_channels`` and the RPN's anchor
``strides`` once, and every argument below that a config leaves out is
filled from them when the segmentor is built (detectron2's
``from_config(cfg, input_shape)`` in spirit: the part's config is
completed from the :class:`Given` shapes before the part is built). A
value a config states wins, and is checked against the same declaration
after the build (``interfaces.py``), so a wrong explicit width still
fails with a message naming both keys.

:data:`READS` is the table; :func:`fill_from_neck` applies it to config
dicts; :func:`declared_parts` gives the built parts it names, for the
checks.
"""
import copy
import inspect
from typing import (Any, Dict, Iterator, NamedTuple, Optional, Sequence, Tuple)

from torch import nn


class Read(NamedTuple):
    """One argument of a slot's part that comes from another slot.

    Attributes:
        slot (str): Config key under ``model``; ``attention[*]`` is every
            plugin of the list.
        arg (str): The part's constructor argument (and the attribute the
            built part keeps it in).
        source (str): A field of :class:`Given`.
        checked (bool): Whether a stated value must equal the source (a
            width the part reads); False for widths that only default to
            the neck's (a head's inner convs).
    """
    slot: str
    arg: str
    source: str
    checked: bool = True


READS: Tuple[Read, ...] = (
    Read('rpn_head', 'in_channels', 'channels'),
    # The RPN's shared conv keeps the neck's width unless told otherwise.
    Read('rpn_head', 'feat_channels', 'channels', checked=False),
    Read('roi_head.bbox_roi_extractor', 'out_channels', 'channels'),
    Read('roi_head.bbox_roi_extractor', 'featmap_strides', 'roi_strides'),
    Read('roi_head.bbox_head', 'in_channels', 'channels'),
    Read('roi_head.bbox_head', 'conv_out_channels', 'channels', checked=False),
    Read('roi_head.mask_roi_extractor', 'out_channels', 'channels'),
    Read('roi_head.mask_roi_extractor', 'featmap_strides', 'roi_strides'),
    Read('roi_head.mask_head', 'in_channels', 'channels'),
    Read('roi_head.mask_head', 'conv_out_channels', 'channels', checked=False),
    # PANet's fully-connected mask path: conv4_fc C, conv5_fc C / 2.
    Read(
        'roi_head.mask_head',
        'fc_conv_channels',
        'channels_and_half',
        checked=False),
    Read('semantic_head', 'in_channels', 'channels'),
    Read('attention[*]', 'bg_channels', 'channels'),
    Read('attention[*]', 'rpn_channels', 'rpn_channels'),
    Read('attention[*]', 'strides', 'level_strides'),
    # The fusion head fuses the semantic head's classes (class_layout.py
    # checks every head's counts against the dataset's).
    Read(
        'panoptic_fusion_head',
        'num_things_classes',
        'num_things',
        checked=False),
    Read(
        'panoptic_fusion_head',
        'num_stuff_classes',
        'num_stuff',
        checked=False),
)


def as_strides(values: Sequence) -> Tuple[int, ...]:
    """Strides as ints; mmdet's anchor generator keeps (w, h) pairs."""
    return tuple(v[0] if isinstance(v, (tuple, list)) else v for v in values)


class Given(NamedTuple):
    """What the neck and the RPN give (None where their config does not
    say).

    Attributes:
        channels (int): The neck's ``out_channels``.
        rpn_channels (int): The RPN's ``feat_channels``.
        strides (tuple[int]): One per neck level, the RPN's anchor strides.
        roi_levels (int): Neck levels built from backbone stages (FPN's
            extra max-pooled levels serve the RPN only): the levels RoI
            features are pooled from.
        num_things (int), num_stuff (int): The semantic head's classes.
    """
    channels: Optional[int]
    rpn_channels: Optional[int]
    strides: Optional[Tuple[int, ...]]
    roi_levels: Optional[int]
    num_things: Optional[int] = None
    num_stuff: Optional[int] = None

    def value(self, source: str, part: dict, cls: type) -> Any:
        """The value of ``source`` for a part (None: unknown)."""
        if source in ('channels', 'rpn_channels', 'num_things', 'num_stuff'):
            return getattr(self, source)
        if source == 'channels_and_half':
            return None if self.channels is None else \
                (self.channels, self.channels // 2)
        if self.strides is None:
            return None
        if source == 'roi_strides':
            return None if self.roi_levels is None else \
                list(self.strides[:self.roi_levels])
        levels = part.get('num_levels', _default(cls, 'num_levels'))
        return None if not isinstance(levels, int) else \
            tuple(self.strides[:levels])


def given_by(model: dict) -> Given:
    """The :class:`Given` of a segmentor config (``model``)."""
    neck, rpn = model.get('neck') or {}, model.get('rpn_head') or {}
    channels = neck.get('out_channels')
    rpn_channels = rpn.get('feat_channels', channels)
    strides = (rpn.get('anchor_generator') or {}).get('strides')
    roi_levels = None
    if isinstance(neck.get('in_channels'), (list, tuple)):
        end = neck.get('end_level', -1)
        last = len(neck['in_channels']) if end == -1 else end + 1
        roi_levels = last - neck.get('start_level', 0)
    semantic = model.get('semantic_head') or {}
    return Given(channels, rpn_channels,
                 None if strides is None else as_strides(strides), roi_levels,
                 semantic.get('num_things_classes'),
                 semantic.get('num_stuff_classes'))


def constructor_params(cls: type) -> Dict[str, inspect.Parameter]:
    """Named constructor arguments of ``cls``, following ``**kwargs`` up
    its bases."""
    found = {}
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        params = inspect.signature(vars(klass)['__init__']).parameters
        found.update({
            n: p
            for n, p in params.items()
            if n != 'self' and n not in found and p.kind not in (
                p.VAR_POSITIONAL, p.VAR_KEYWORD)
        })
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            break
    return found


def _default(cls: type, arg: str) -> Any:
    param = constructor_params(cls).get(arg)
    return None if param is None or param.default is param.empty \
        else param.default


def _part_class(part: dict) -> Optional[type]:
    """The registered class a part config names (None if unknown: the
    build then fails with the registry's own message)."""
    from panoptic_zoo.registry import MODELS
    kind = part.get('type')
    if inspect.isclass(kind):
        return kind
    try:
        return MODELS.get(kind) if isinstance(kind, str) else None
    except KeyError:
        return None


def _slot_configs(model: dict, slot: str) -> Iterator[Tuple[str, dict]]:
    """``(config key, part dict)`` for a :data:`READS` slot."""
    if slot == 'attention[*]':
        for i, part in enumerate(model.get('attention') or ()):
            yield f'model.attention[{i}]', part
        return
    node = model
    for key in slot.split('.'):
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict):
        yield f'model.{slot}', node


def fill_from_neck(model: dict) -> dict:
    """A copy of a segmentor config whose parts get every :data:`READS`
    argument they take but leave out, from what the neck gives.

    The RPN's ``feat_channels`` is filled before PAM reads it.
    """
    model = copy.deepcopy(model)
    for read in READS:
        given = given_by(model)
        for _, part in _slot_configs(model, read.slot):
            cls = _part_class(part)
            if read.arg in part or cls is None or \
                    read.arg not in constructor_params(cls):
                continue
            value = given.value(read.source, part, cls)
            if value is not None:
                part[read.arg] = value
    return model


def declared_parts(model: nn.Module) -> Iterator[Tuple[Read, str, nn.Module]]:
    """``(read, config key, built part)`` for every checked :data:`READS`
    entry whose part is in the built segmentor."""
    for read in READS:
        if not read.checked:
            continue
        if read.slot == 'attention[*]':
            for i, plugin in enumerate(model.attention):
                yield read, f'model.attention[{i}]', plugin
            continue
        node, present = model, True
        for key in read.slot.split('.'):
            if key.endswith(('_roi_extractor', '_head')) and \
                    node is getattr(model, 'roi_head', None):
                present = getattr(node, f'with_{key.split("_")[0]}', False)
            node = getattr(node, key, None) if present else None
        if node is not None:
            yield read, f'model.{read.slot}', node
