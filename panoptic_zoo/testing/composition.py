"""Tiny segmentor configs composed slot by slot, for composition tests.

``SLOT_VALUES`` names registered parts for each slot; :func:`compose` puts
one of each on a shrunken Panoptic FPN (ResNet-18 of base width 8, width-16
neck and heads, GN with 4 groups, ``init_cfg=None``), so a model builds in
a fraction of a second and trains a step on :func:`tiny_batch` on a CPU.
:func:`combinations` lists every choice of one value per slot.
"""
import copy
import itertools
from functools import lru_cache
from typing import Dict, List, Optional

import numpy as np
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config, ConfigDict

from .configs import config_path

NUM_THINGS = 2
NUM_STUFF = 2
THING_CLASSES = ('thing_a', 'thing_b')
WIDTH = 16  # neck, RPN and RoI-head channels
BACKBONE_CHANNELS = [8, 16, 32, 64]  # ResNet-18 with base_channels=8
GN = dict(type='GN', num_groups=4, requires_grad=True)
ADAPTIVE_EXTRACTOR = dict(type='AdaptiveRoIExtractor')


def _roi_branch(*,
                bbox_head: dict,
                mask_head: dict,
                extractor: Optional[dict] = None) -> dict:
    """``roi_head`` overrides; ``extractor`` for both branches (None:
    the base's ``SingleRoIExtractor``)."""
    mask = dict(
        in_channels=WIDTH,
        conv_out_channels=WIDTH,
        num_convs=2,
        num_classes=NUM_THINGS,
        **mask_head)
    box = dict(in_channels=WIDTH, num_classes=NUM_THINGS, **bbox_head)
    branch = dict(bbox_head=box, mask_head=mask)
    for key in ('bbox_roi_extractor', 'mask_roi_extractor'):
        branch[key] = dict(out_channels=WIDTH, **(extractor or {}))
    return branch


def _semantic(type_: str, **extra) -> dict:
    return dict(
        type=type_,
        num_things_classes=NUM_THINGS,
        num_stuff_classes=NUM_STUFF,
        in_channels=WIDTH,
        inner_channels=8,
        **extra)


PAM = dict(
    type='PAM',
    rpn_channels=WIDTH,
    bg_channels=WIDTH,
    num_levels=4,
    norm_cfg=GN)
MAM = dict(
    type='MAM',
    bg_channels=WIDTH,
    num_levels=4,
    hidden_channels=4,
    norm_cfg=GN)

#: slot → value name → the model-config overrides it stands for.
SLOT_VALUES: Dict[str, Dict[str, dict]] = dict(
    neck=dict(
        FPN=dict(type='FPN'),
        PANetPathAug=dict(type='PANetPathAug', norm_cfg=GN)),
    roi=dict(
        standard=_roi_branch(
            bbox_head=dict(type='Shared2FCBBoxHead', fc_out_channels=32),
            mask_head=dict(type='FCNMaskHead')),
        adaptive=_roi_branch(
            bbox_head=dict(
                type='AdaptiveConvFCBBoxHead',
                num_shared_convs=4,
                num_shared_fcs=1,
                conv_out_channels=WIDTH,
                fc_out_channels=32,
                norm_cfg=GN),
            mask_head=dict(type='AdaptiveFCNMaskHead', norm_cfg=GN),
            extractor=ADAPTIVE_EXTRACTOR),
        adaptive_fc_fusion=_roi_branch(
            bbox_head=dict(
                type='AdaptiveConvFCBBoxHead',
                num_shared_convs=0,
                num_shared_fcs=2,
                fc_out_channels=32),
            mask_head=dict(
                type='FCFusionMaskHead', fc_conv_channels=(WIDTH, 8)),
            extractor=ADAPTIVE_EXTRACTOR)),
    semantic=dict(
        PanopticFPNHead=_semantic('PanopticFPNHead', norm_cfg=GN),
        PanopticFPNPerClassHead=_semantic(
            'PanopticFPNPerClassHead', norm_cfg=GN),
        # Plain convs: mmcv's CPU deformable conv is slow.
        UPSNetSemanticHead=_semantic(
            'UPSNetSemanticHead', num_convs=2, conv_cfg=None)),
    attention={
        'none': [],
        'PAM': [PAM],
        'MAM': [MAM],
        'PAM+MAM': [PAM, MAM]
    },
    fusion=dict(
        HeuristicFusionHead=dict(type='HeuristicFusionHead'),
        UPSNetPanopticHead=dict(type='UPSNetPanopticHead'),
        AUNetFusionHead=dict(
            type='AUNetFusionHead',
            thing_classes=THING_CLASSES,
            relations=[THING_CLASSES])))


@lru_cache(maxsize=1)
def _base_model() -> dict:
    """The repository's Panoptic FPN model config, as plain dicts."""
    path = config_path('_base_/models/panoptic-fpn_r50_fpn.py')
    return Config.fromfile(path).model.to_dict()


def _tiny_base() -> dict:
    model = copy.deepcopy(_base_model())
    model['backbone'].update(
        depth=18,
        base_channels=8,
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=None)
    model['neck'].update(in_channels=BACKBONE_CHANNELS, out_channels=WIDTH)
    model['rpn_head'].update(in_channels=WIDTH, feat_channels=WIDTH)
    train, test = model['train_cfg'], model['test_cfg']
    train['rpn']['sampler']['num'] = 64
    train['rpn_proposal'].update(nms_pre=200, max_per_img=50)
    train['rcnn']['sampler']['num'] = 32
    test['rpn'].update(nms_pre=200, max_per_img=50)
    # Random weights score low: keep a few detections so fusion has some.
    test['rcnn'].update(score_thr=0.0, max_per_img=5)
    test['panoptic'] = dict(mask_overlap=0.5, stuff_area_limit=16)
    return model


def compose(*, neck: str, roi: str, semantic: str, attention: str,
            fusion: str) -> ConfigDict:
    """A tiny model config with the named value in each slot.

    Args:
        neck, roi, semantic, attention, fusion (str): Keys of ``SLOT_VALUES``.

    Returns:
        ConfigDict: A ``PanopticSegmentor`` config (mmdet reads its
        ``train_cfg`` by attribute) for ``NUM_THINGS`` thing and
        ``NUM_STUFF`` stuff classes; a fresh copy, safe to edit.

    Raises:
        KeyError: naming the slot and its known values.
    """
    chosen = dict(
        neck=neck,
        roi=roi,
        semantic=semantic,
        attention=attention,
        fusion=fusion)
    for slot, value in chosen.items():
        if value not in SLOT_VALUES[slot]:
            raise KeyError(f'no {slot} {value!r}; expected one of '
                           f'{sorted(SLOT_VALUES[slot])}')
    model = _tiny_base()
    model['neck'].update(SLOT_VALUES['neck'][neck])
    for key, part in SLOT_VALUES['roi'][roi].items():
        model['roi_head'][key].update(part)
    model['semantic_head'] = dict(SLOT_VALUES['semantic'][semantic])
    model['attention'] = list(SLOT_VALUES['attention'][attention])
    model['panoptic_fusion_head'] = dict(
        num_things_classes=NUM_THINGS,
        num_stuff_classes=NUM_STUFF,
        **SLOT_VALUES['fusion'][fusion])
    return ConfigDict(copy.deepcopy(model))


def tiny_batch(seed: int = 0) -> dict:
    """One 64×96 image with 2 instances (labels < ``NUM_THINGS``), their
    masks and a semantic map (labels < ``NUM_THINGS + NUM_STUFF``): the
    unprocessed ``inputs`` / ``data_samples`` of a data loader."""
    np.random.seed(seed)  # demo_mm_inputs draws the semantic map from it
    data = demo_mm_inputs(
        batch_size=1,
        image_shapes=[(3, 64, 96)],
        num_items=[2],
        num_classes=NUM_THINGS + NUM_STUFF,
        with_mask=True,
        with_semantic=True)
    for sample in data['data_samples']:
        # Drawn in [1, NUM_THINGS + NUM_STUFF): fold onto the thing classes.
        sample.gt_instances.labels = sample.gt_instances.labels % NUM_THINGS
    return data


def combinations() -> List[Dict[str, str]]:
    """Every combination of slot values, in ``SLOT_VALUES`` order."""
    names = list(SLOT_VALUES)
    return [
        dict(zip(names, values))
        for values in itertools.product(*(SLOT_VALUES[s] for s in names))
    ]
