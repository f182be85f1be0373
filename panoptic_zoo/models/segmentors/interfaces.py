"""What each slot of the segmentor gives the others, checked at build time.

A part in one slot reads what parts in other slots give (DESIGN.md §2).
Our parts declare it with attributes; mmdet's parts are read through the
attributes they already have. Per slot:

- ``neck`` gives L levels (``num_outs``) of C channels (``out_channels``).
- ``rpn_head`` reads all L levels at ``in_channels`` and gives the level
  strides (``prior_generator.strides``, the one place a config states the
  neck levels' strides) and conv features of ``feat_channels`` channels.
- RoI extractors read the first ``len(featmap_strides)`` levels (at the
  RPN's strides) and give (N, C, h, w) RoI features, or (N, L, C, h, w)
  when they declare ``roi_feat_levels = L`` (``AdaptiveRoIExtractor``).
  Box and mask heads declare the level axis they read the same way
  (``AdaptiveConvFCBBoxHead``, ``AdaptiveFCNMaskHead``, ``FCFusionMaskHead``
  with ``num_levels``); mmdet's read none.
- The mask head gives (N, K, m, m') logits, K = T, or 1 when
  class-agnostic: that channel then serves every instance
  (``FGContext.instances``' ``mask_logits``).
- ``semantic_head`` (a ``PanopticSemanticHead``) reads levels
  [``start_level``, ``end_level``) at its input channels and gives S stuff
  then K thing channels (``num_thing_channels``: 1 or T).
- ``attention`` plugins (``FGAttention``) read and give the first
  ``num_levels`` BG levels of ``bg_channels``; these must be levels the
  semantic head reads, or the plugin's weights get no gradient. Those that
  read ``rpn_feats`` (PAM) read ``rpn_channels``; MAM pastes masks at
  ``strides``.
- ``panoptic_fusion_head`` (a ``PanopticFusionHead``) reads the semantic
  logits; with ``needs_thing_logits_per_class`` it needs K = T.

Each check raises one ValueError naming both config keys and why.
"""
from typing import NamedTuple, Optional, Sequence, Tuple

from torch import nn

from panoptic_zoo.models.contracts import (FGAttention, PanopticFusionHead,
                                           PanopticSemanticHead)
from .wiring import as_strides, declared_parts


class NeckOutputs(NamedTuple):
    """What the neck gives; None where a neck does not say."""
    levels: Optional[int]
    channels: Optional[int]
    name: str  # e.g. 'model.neck (FPN, num_outs=5, out_channels=256)'


def _name(key: str, part: nn.Module, **shown) -> str:
    """``key (Type, a=1, ...)``: a part as messages name it (attributes
    that are None are left out)."""
    attrs = ''.join(f', {k}={v}' for k, v in shown.items() if v is not None)
    return f'{key} ({type(part).__name__}{attrs})'


def _input_channels(part: nn.Module) -> Optional[int]:
    """Declared ``in_channels``, else the first conv's (mmdet's
    ``PanopticFPNHead`` keeps no attribute)."""
    if isinstance(getattr(part, 'in_channels', None), int):
        return part.in_channels
    conv = next((m for m in part.modules() if isinstance(m, nn.Conv2d)), None)
    return None if conv is None else conv.in_channels


def neck_outputs(model: nn.Module) -> NeckOutputs:
    """Levels and channels of the neck (mmdet's FPN attributes)."""
    neck = model.neck
    levels, channels = (
        getattr(neck, k, None) for k in ('num_outs', 'out_channels'))
    return NeckOutputs(
        levels, channels,
        _name('model.neck', neck, num_outs=levels, out_channels=channels))


def _reads_channels(reader: str, channels: Optional[int], given: Optional[int],
                    giver: str) -> None:
    """``reader`` reads ``channels`` where ``giver`` gives ``given``
    (None: a part that does not say, nothing to check)."""
    if channels is not None and given is not None and channels != given:
        raise ValueError(
            f'{reader} reads {channels}-channel features, but {giver} gives '
            f'{given}: set them equal')


def _reads_levels(reader: str, levels: int, neck: NeckOutputs) -> None:
    """``reader`` reads the first ``levels`` neck levels."""
    if neck.levels is not None and levels > neck.levels:
        raise ValueError(f'{reader} reads {levels} levels, but {neck.name} '
                         f'gives {neck.levels}')


def _level_strides(model: nn.Module) -> Tuple[Optional[tuple], str]:
    """Neck level strides as the RPN's anchor generator states them."""
    generator = getattr(model.rpn_head, 'prior_generator', None)
    strides = getattr(generator, 'strides', None)
    strides = None if strides is None else as_strides(strides)
    return strides, (f'model.rpn_head.anchor_generator (strides={strides}, '
                     'the neck levels\' strides)')


def _at_level_strides(reader: str, strides: Sequence,
                      model: nn.Module) -> None:
    """``reader`` assumes ``strides`` for the first neck levels."""
    given, giver = _level_strides(model)
    strides = as_strides(strides)
    if given is not None and strides != given[:len(strides)]:
        raise ValueError(f'{reader} assumes level strides {strides}, but '
                         f'{giver} differ: use the same strides')


def check_rpn_head(model: nn.Module, neck: NeckOutputs) -> None:
    """The RPN reads every neck level, one anchor stride per level."""
    strides, giver = _level_strides(model)
    if strides is not None and neck.levels is not None \
            and len(strides) != neck.levels:
        raise ValueError(f'{giver} has one stride per level it runs on, '
                         f'but {neck.name} gives {neck.levels} levels')


def check_roi_head(model: nn.Module, neck: NeckOutputs) -> None:
    """Extractors read neck levels; heads read the extractors' layout."""
    roi_head = model.roi_head
    for branch in ('bbox', 'mask'):
        if not getattr(roi_head, f'with_{branch}', False):
            continue
        key = f'model.roi_head.{branch}_roi_extractor'
        extractor = getattr(roi_head, f'{branch}_roi_extractor')
        head = getattr(roi_head, f'{branch}_head')
        strides = getattr(extractor, 'featmap_strides', None)
        if strides is not None:
            _reads_levels(
                _name(key, extractor, featmap_strides=list(strides)),
                len(strides), neck)
        _check_level_axis(extractor, key, head,
                          f'model.roi_head.{branch}_head')


def _check_level_axis(extractor: nn.Module, extractor_key: str,
                      head: nn.Module, head_key: str) -> None:
    """``roi_feat_levels``: L of a (N, L, C, h, w) layout, None for
    (N, C, h, w); what the extractor gives and the head reads must agree."""
    given = getattr(extractor, 'roi_feat_levels', None)
    read = getattr(head, 'roi_feat_levels', None)
    if given == read:
        return

    def layout(levels):
        return '(N, C, h, w)' if levels is None else \
            f'(N, L={levels}, C, h, w) per-level'

    if read is None:
        fix = ('use a head that fuses levels (AdaptiveConvFCBBoxHead, '
               'AdaptiveFCNMaskHead or FCFusionMaskHead with num_levels), '
               'or SingleRoIExtractor')
    elif given is None:
        fix = 'use AdaptiveRoIExtractor with one stride per level'
    else:
        fix = "set num_levels to the extractor's number of featmap_strides"
    raise ValueError(
        f'{_name(head_key, head, num_levels=read)} reads {layout(read)} '
        f'RoI features, but {_name(extractor_key, extractor)} gives '
        f'{layout(given)}: {fix}')


def check_semantic_head(model: nn.Module, neck: NeckOutputs) -> None:
    """The semantic head reads levels [start_level, end_level)."""
    head = model.semantic_head
    start, end = (getattr(head, k, None) for k in ('start_level', 'end_level'))
    shown = None if end is None else f'[{start}, {end})'
    reader = _name('model.semantic_head', head, levels=shown)
    if end is not None:
        _reads_levels(reader, end, neck)


def check_attention(model: nn.Module, neck: NeckOutputs) -> None:
    """Plugins transform neck levels the semantic head reads; PAM reads
    the RPN's features, MAM pastes at the neck's strides."""
    semantic = model.semantic_head
    start, end = (
        getattr(semantic, k, None) for k in ('start_level', 'end_level'))
    for i, plugin in enumerate(model.attention):
        key = f'model.attention[{i}]'
        levels = getattr(plugin, 'num_levels', None)
        if levels is None:  # a plugin that does not say: nothing to check
            continue
        _reads_levels(_name(key, plugin, num_levels=levels), levels, neck)
        if end is not None and ((start or 0) > 0 or levels > end):
            raise ValueError(
                f'{_name(key, plugin, num_levels=levels)} transforms levels '
                f'[0, {levels}), but '
                f'{_name("model.semantic_head", semantic)} reads only '
                f'[{start}, {end}): its weights on the other levels would '
                'get no gradient; attend the levels the semantic head reads')


def check_declared_reads(model: nn.Module, neck: NeckOutputs) -> None:
    """Every width and stride a part reads from another slot
    (``wiring.READS``, the table that also fills them in) equals what that
    slot gives: the neck's channels, the RPN's conv channels, the level
    strides of the RPN's anchors."""
    rpn = model.rpn_head
    feat = getattr(rpn, 'feat_channels', None)
    givers = dict(
        channels=(neck.channels, neck.name),
        rpn_channels=(feat, _name('model.rpn_head', rpn, feat_channels=feat)))
    for read, key, part in declared_parts(model):
        if read.arg == 'in_channels':
            value = _input_channels(part)
        else:
            value = getattr(part, read.arg, None)
        if value is None:  # a part that does not say: nothing to check
            continue
        if read.arg == 'featmap_strides':
            value = list(value)
        reader = _name(key, part, **{read.arg: value})
        if read.source in givers:
            _reads_channels(reader, value, *givers[read.source])
        else:
            _at_level_strides(reader, value, model)


def check_contracts(model: nn.Module) -> None:
    """Every slot's part implements its contract (docs/architecture.md)."""
    parts = [('model.rpn_head', model.rpn_head, 'forward_feats',
              "panoptic_zoo's RPNHead (mmdet's, giving its conv features)"),
             ('model.semantic_head', model.semantic_head,
              PanopticSemanticHead,
              "a PanopticSemanticHead (panoptic_zoo's PanopticFPNHead, "
              'PanopticFPNPerClassHead, UPSNetSemanticHead)'),
             ('model.panoptic_fusion_head', model.panoptic_fusion_head,
              PanopticFusionHead,
              "a PanopticFusionHead (panoptic_zoo's HeuristicFusionHead, "
              'UPSNetPanopticHead, ...)')]
    parts += [(f'model.attention[{i}]', plugin, FGAttention,
               'an FGAttention subclass with forward(bg_feats, fg)')
              for i, plugin in enumerate(model.attention)]
    for key, part, contract, fix in parts:
        ok = callable(getattr(part, contract, None)) if isinstance(
            contract, str) else isinstance(part, contract)
        if not ok:
            raise ValueError(
                f'{_name(key, part)} does not implement the slot\'s contract '
                f'({type(part).__module__}): use {fix}')
    roi_head = model.roi_head
    if not getattr(roi_head, 'with_mask', False):
        readers = [
            _name('model.panoptic_fusion_head', model.panoptic_fusion_head)
        ] + [
            _name(f'model.attention[{i}]', plugin)
            for i, plugin in enumerate(model.attention)
            if 'instances' in plugin.reads
        ]
        raise ValueError(
            f'{_name("model.roi_head", roi_head)} has no mask head, but '
            f'{", ".join(readers)} read FG instances with mask logits (add '
            'mask_roi_extractor and mask_head)')


def check_fusion_head(model: nn.Module) -> None:
    """A fusion head that reads one thing channel per class needs a
    semantic head that gives them."""
    semantic, fusion = model.semantic_head, model.panoptic_fusion_head
    if fusion.needs_thing_logits_per_class and \
            semantic.num_thing_channels != model.num_things_classes:
        raise ValueError(
            f'{_name("model.panoptic_fusion_head", fusion)} needs one '
            f'semantic logit channel per thing class '
            f'({model.num_things_classes}), but '
            f'{_name("model.semantic_head", semantic)} gives '
            f'{semantic.num_thing_channels} (things merged): use '
            'UPSNetSemanticHead or PanopticFPNPerClassHead')


def check_slot_interfaces(model: nn.Module) -> None:
    """Run every slot's check on a built segmentor (after its class layout
    is known).

    Raises:
        ValueError: for the first mismatch, naming both parts.
    """
    check_contracts(model)
    neck = neck_outputs(model)
    check_rpn_head(model, neck)
    check_roi_head(model, neck)
    check_semantic_head(model, neck)
    check_attention(model, neck)
    check_declared_reads(model, neck)
    check_fusion_head(model)
