"""The slots of ``PanopticSegmentor`` and what known parts need in them.

``panoptic-zoo compose`` reads this: :data:`SLOTS` says which registered
classes fit a slot and which base arguments a new part keeps;
:data:`PART_DEFAULTS` gives, for each part we know, its arguments as a
function of the base model (:class:`BaseView`: channels, levels, strides,
class counts, GN). Parts not in the table (plugins') get their required
arguments from :data:`INTERFACE`.
"""
import copy
import difflib
import inspect
from typing import Callable, Dict, NamedTuple, Optional

from mmengine.config import Config

from .components import list_components
from .models.segmentors.wiring import READS, constructor_params


class ComposeError(ValueError):
    """A base, part or output that cannot be used; the message says why."""


def _derives(*names: str) -> Callable[[type], bool]:
    return lambda cls: any(k.__name__ in names for k in cls.__mro__)


class Slot(NamedTuple):
    """One slot of ``PanopticSegmentor``.

    Attributes:
        flag (str): Its CLI option, ``--<flag>``.
        what (str): What a part of it is called in messages.
        keys (tuple[str]): Config keys under ``model`` it fills.
        fits (callable): Whether a registered class can fill it.
        carry (tuple[str]): Base arguments a new part keeps (if it takes
            them); every other argument of the old part is dropped.
    """
    flag: str
    what: str
    keys: tuple
    fits: Callable[[type], bool]
    carry: tuple = ()


SLOTS = {  # in the order parts are composed
    'neck': Slot('neck', 'neck', ('neck', ),
                 lambda c: _derives('FPN')(c) or '.necks.' in c.__module__,
                 ('in_channels', 'out_channels', 'num_outs', 'start_level',
                  'end_level')),
    'roi_extractor': Slot('roi-extractor', 'RoI extractor',
                          ('roi_head.bbox_roi_extractor',
                           'roi_head.mask_roi_extractor'),
                          _derives('BaseRoIExtractor'),
                          ('roi_layer', 'out_channels', 'featmap_strides')),
    'bbox_head': Slot('bbox-head', 'box head', ('roi_head.bbox_head', ),
                      _derives('BBoxHead'),
                      ('in_channels', 'fc_out_channels', 'roi_feat_size',
                       'num_classes', 'bbox_coder', 'reg_class_agnostic',
                       'loss_cls', 'loss_bbox', 'conv_out_channels',
                       'norm_cfg')),
    'mask_head': Slot('mask-head', 'mask head', ('roi_head.mask_head', ),
                      _derives('FCNMaskHead'),
                      ('num_convs', 'roi_feat_size', 'in_channels',
                       'conv_out_channels', 'num_classes', 'class_agnostic',
                       'norm_cfg', 'loss_mask')),
    'semantic_head': Slot('semantic-head', 'semantic head',
                          ('semantic_head', ),
                          _derives('PanopticSemanticHead'),
                          ('num_things_classes', 'num_stuff_classes',
                           'in_channels', 'inner_channels', 'start_level',
                           'end_level', 'conv_cfg', 'norm_cfg', 'loss_seg')),
    'attention': Slot('attention', 'attention plugin', ('attention', ),
                      _derives('FGAttention')),
    'fusion': Slot('fusion', 'fusion head', ('panoptic_fusion_head', ),
                   _derives('PanopticFusionHead'),
                   ('num_things_classes', 'num_stuff_classes')),
}


def _ce(weight: float, **extra) -> dict:
    return dict(
        type='CrossEntropyLoss', ignore_index=255, loss_weight=weight, **extra)


# Part name → its arguments as a function of the base (a BaseView). A
# fusion head's ``test_cfg`` becomes ``model.test_cfg.panoptic``. Widths,
# strides and class counts of wiring.READS are left out: the segmentor
# fills them from the neck, as in the zoo configs.
PART_DEFAULTS: Dict[str, Callable[['BaseView'], dict]] = {
    'PANetPathAug':
    lambda b: dict(norm_cfg=b.gn),
    'AdaptiveRoIExtractor':
    lambda b: dict(  # official: legacy RoIAlign
        roi_layer=dict(sampling_ratio=2, aligned=False)),
    'Shared4Conv1FCBBoxHead':
    lambda b: dict(norm_cfg=b.gn),
    'AdaptiveConvFCBBoxHead':
    lambda b: dict(
        num_levels=b.roi_levels,
        fusion='max',
        num_shared_convs=4,
        num_shared_fcs=1,
        norm_cfg=b.gn),
    'AdaptiveFCNMaskHead':
    lambda b: dict(num_levels=b.mask_levels, fusion='max', norm_cfg=b.gn),
    'FCFusionMaskHead':
    lambda b: dict(
        num_levels=b.mask_levels,
        fusion='max',
        fc_relu=True,
        norm_cfg=b.gn),
    'PanopticFPNHead':
    lambda b: dict(norm_cfg=b.gn, conv_cfg=None),
    'PanopticFPNPerClassHead':
    lambda b: dict(norm_cfg=b.gn, conv_cfg=None),
    'UPSNetSemanticHead':
    lambda b: dict(  # plain convs for CPU runs
        num_convs=3,
        norm_cfg=None,
        loss_roi=_ce(0.04),
        conv_cfg=dict(type='Conv2d')
        if b.synthetic else dict(type='DCN', deform_groups=1),
        loss_seg=_ce(0.2, avg_non_ignore=True)),
    'PAM':
    lambda b: dict(num_levels=b.bg_levels, reweight=True, norm_cfg=b.gn),
    'MAM':
    lambda b: dict(
        num_levels=b.bg_levels,
        **b.mask_sampling,
        normalize=True,
        reweight=True,
        norm_cfg=b.gn),
    'HeuristicFusionHead':
    lambda b: dict(
        test_cfg=dict(mask_overlap=0.5, stuff_area_limit=b.stuff_area_limit)),
    'AUNetFusionHead':
    lambda b: dict(
        thing_classes=b.thing_classes,
        relations=[],
        test_cfg=dict(mask_overlap=0.5, stuff_area_limit=b.stuff_area_limit)),
    'UPSNetPanopticHead':
    lambda b: dict(
        keep_fraction=0.7,
        with_unknown=True,
        loss_panoptic=_ce(0.1),
        test_cfg=dict(mask_overlap=0.3, stuff_area_limit=b.stuff_area_limit)),
}
# Required arguments of parts not in the table (plugins') → BaseView field.
INTERFACE = dict(
    in_channels='channels',
    out_channels='channels',
    bg_channels='channels',
    rpn_channels='rpn_channels',
    num_levels='bg_levels',
    strides='strides',
    num_things_classes='num_things',
    num_classes='num_things',
    num_stuff_classes='num_stuff',
    thing_classes='thing_classes',
    norm_cfg='gn')


class BaseView:
    """What parts read from the base model (as composed so far)."""

    def __init__(self, cfg: Config, model: dict) -> None:
        from .models.segmentors.wiring import fill_from_neck
        from .registry import DATASETS, MODELS
        # Read as the segmentor will build it: widths, strides and class
        # counts the config leaves to the neck filled in (wiring.READS).
        model = fill_from_neck(model)
        roi, sem = model['roi_head'], model['semantic_head']
        self.channels = model['neck']['out_channels']
        self.rpn_channels = model['rpn_head']['feat_channels']
        self.strides = tuple(model['rpn_head']['anchor_generator']['strides'])
        self.roi_levels = len(roi['bbox_roi_extractor']['featmap_strides'])
        mask_ext = roi.get('mask_roi_extractor') or roi['bbox_roi_extractor']
        adaptive = _derives('AdaptiveRoIExtractor')(
            MODELS.get(mask_ext['type']))
        self.mask_levels = len(mask_ext['featmap_strides']) \
            if adaptive else None
        layer = mask_ext['roi_layer']  # MAM pastes as the mask head pooled
        sampling = (layer.get('sampling_ratio', 0), layer.get('aligned', True))
        self.mask_sampling = {} if sampling == (0, True) else dict(
            sampling_ratio=sampling[0], aligned=sampling[1])
        self.bg_levels = sem.get('end_level', 4)
        fusion = model['panoptic_fusion_head']
        self.num_things = fusion['num_things_classes']
        self.num_stuff = fusion['num_stuff_classes']
        self.stuff_area_limit = model['test_cfg']['panoptic'].get(
            'stuff_area_limit', 4096)
        norms = [
            sem,
            roi.get('bbox_head'),
            roi.get('mask_head'), model['neck']
        ] + list(model.get('attention', []))
        self.gn = next(
            (copy.deepcopy(p['norm_cfg']) for p in norms
             if p and (p.get('norm_cfg') or {}).get('type') == 'GN'),
            dict(
                type='GN',
                num_groups=min(32, max(self.channels // 8, 1)),
                requires_grad=True))
        dataset = cfg.get('train_dataloader', {}).get('dataset', {})
        while 'dataset' in dataset:  # wrappers
            dataset = dataset['dataset']
        self.synthetic = dataset.get('type') == 'SyntheticPanopticDataset'
        meta = dict(
            getattr(DATASETS.get(dataset.get('type', '')), 'METAINFO', {}),
            **dataset.get('metainfo', {}))
        self.thing_classes = tuple(meta.get('thing_classes', ()))


def _merge(into: dict, new: dict) -> dict:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)
    return into


def new_part(slot: Slot, name: str, cls: type, old: Optional[dict],
             view: BaseView) -> dict:
    """``dict(type=name, ...)``: carried base arguments, the table's, and
    required ones from :data:`INTERFACE` that the segmentor does not fill
    from the neck (``wiring.READS``)."""
    params = constructor_params(cls)
    keys = {'attention[*]' if k == 'attention' else k for k in slot.keys}
    wired = {read.arg for read in READS if read.slot in keys}
    part = {
        k: copy.deepcopy(v)
        for k, v in (old or {}).items() if k in slot.carry and k in params
    }
    _merge(part, PART_DEFAULTS.get(name, lambda b: {})(view))
    for key, param in params.items():
        if param.default is param.empty and key not in part \
                and key in INTERFACE and key not in wired:
            part[key] = getattr(view, INTERFACE[key])
    return dict(type=name, **part)


def lookup_part(slot: Slot, name: str, models: dict) -> type:
    """The registered class ``name``, checked to fit ``slot``."""
    fitting = sorted(
        (n for n, c in models.items()
         if inspect.isclass(c.obj) and slot.fits(c.obj)
         and not inspect.isabstract(c.obj) and not n.startswith('Base')),
        key=lambda n: (models[n].origin != 'panoptic-zoo', n))
    if name not in models:
        kinds = sorted({c.kind for c in list_components() if c.name == name})
        if kinds:
            raise ComposeError(
                f'--{slot.flag} {name}: {name} is in the {kinds[0]} registry, '
                f'not the model registry; a {slot.what} is a model part, '
                f'e.g. {", ".join(fitting[:6])}')
        close = (
            difflib.get_close_matches(name, fitting, n=5)
            or difflib.get_close_matches(name, list(models), n=5))
        raise ComposeError(
            f'--{slot.flag} {name}: no model component named {name!r}' +
            (f'; did you mean {", ".join(close)}?'
             if close else '; see `panoptic-zoo list model`'))
    cls = models[name].obj
    if not (inspect.isclass(cls) and slot.fits(cls)):
        where = [
            f'--{s.flag}' for s in SLOTS.values()
            if inspect.isclass(cls) and s.fits(cls)
        ]
        raise ComposeError(
            f'--{slot.flag} {name}: {name} ({models[name].origin}, '
            f'{getattr(cls, "__module__", "?")}) is not '
            f'{"an" if slot.what[0] in "aeiou" else "a"} {slot.what}' +
            (f'; it fits {" / ".join(where)}' if where else '') +
            f'. {slot.what[0].upper() + slot.what[1:]}s: '
            f'{", ".join(fitting[:8])}{", ..." if fitting[8:] else ""} '
            f'({len(fitting)}; `panoptic-zoo list model`)')
    return cls
