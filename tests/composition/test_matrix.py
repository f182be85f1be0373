"""Every combination of registered parts builds, or fails at build time
naming both parts; the legal ones train and predict.

The matrix is ``panoptic_zoo.testing.composition.SLOT_VALUES``: necks {FPN,
PANetPathAug} × RoI branches {standard: SingleRoIExtractor +
Shared2FCBBoxHead + FCNMaskHead; adaptive: AdaptiveRoIExtractor +
AdaptiveConvFCBBoxHead (4conv1fc, GN) + AdaptiveFCNMaskHead;
adaptive_fc_fusion: AdaptiveRoIExtractor + AdaptiveConvFCBBoxHead (2fc) +
FCFusionMaskHead} × semantic heads {PanopticFPNHead,
PanopticFPNPerClassHead, UPSNetSemanticHead (plain convs)} × attention
{none, PAM, MAM, PAM+MAM} × fusion heads {HeuristicFusionHead,
UPSNetPanopticHead, AUNetFusionHead}: 216 combinations. 24 are illegal
(UPSNet's fusion reads per-thing-class logits, which mmdet's
PanopticFPNHead cannot give), 192 legal.

Every combination is built; the 24 illegal ones must fail with the
expected ValueError naming both parts, and each of the 192 legal ones runs
one training step (finite loss, a gradient for every trainable parameter
of every part, a nonzero one in each part) and one inference (a valid
panoptic map at the image size). No covering subset is needed: with one
intra-op thread all 216 take ~20 s on the 2-core CPU (the steps ~13 s).
With torch's default two threads the same steps took 12 s on an idle
machine but 154 s while other jobs shared the cores (OpenMP's waiting
threads), hence the ``one_thread`` fixture. Mismatches built on purpose
(``MISMATCHES``) check the message of each build-time check.
"""
import re

import pytest
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET

from panoptic_zoo.registry import MODELS
from panoptic_zoo.testing.composition import (NUM_STUFF, NUM_THINGS,
                                              combinations, compose,
                                              tiny_batch)

pytestmark = pytest.mark.slow  # trains models or runs the benchmark

NUM_CLASSES = NUM_THINGS + NUM_STUFF


def is_legal(combo: dict) -> bool:
    """The test's own account of which parts cannot work together."""
    return not (combo['fusion'] == 'UPSNetPanopticHead'
                and combo['semantic'] == 'PanopticFPNHead')


def combo_id(combo: dict) -> str:
    return '-'.join(combo.values())


ALL = combinations()
LEGAL = [c for c in ALL if is_legal(c)]
ILLEGAL_COMBOS = [c for c in ALL if not is_legal(c)]


@pytest.fixture(scope='module', autouse=True)
def one_thread():
    """Tiny tensors gain nothing from intra-op threads; on shared cores
    those threads slow the module down ~10× (see the module docstring)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build(cfg):
    torch.manual_seed(0)
    return MODELS.build(cfg)


def test_matrix_size():
    assert len(ALL) == 2 * 3 * 3 * 4 * 3 == 216
    assert (len(LEGAL), len(ILLEGAL_COMBOS)) == (192, 24)


@pytest.mark.parametrize('combo', ILLEGAL_COMBOS, ids=combo_id)
def test_illegal_combination_fails_at_build(combo):
    with pytest.raises(ValueError) as error:
        build(compose(**combo))
    assert re.search(
        r'model\.panoptic_fusion_head \(UPSNetPanopticHead\).*'
        r'model\.semantic_head \(PanopticFPNHead', str(error.value))


def _parts(model):
    """(config key, module) of every slot that can hold parameters."""
    parts = [(key, getattr(model, key))
             for key in ('backbone', 'neck', 'rpn_head', 'semantic_head',
                         'panoptic_fusion_head')]
    parts += [(f'roi_head.{key}', getattr(model.roi_head, key))
              for key in ('bbox_head', 'mask_head')]
    parts += [(f'attention[{i}]', p) for i, p in enumerate(model.attention)]
    return parts


def _check_panoptic_map(pan, shape):
    assert pan.shape == (1, ) + shape
    labels, ids = pan % INSTANCE_OFFSET, pan // INSTANCE_OFFSET
    assert ((labels >= 0) & (labels <= NUM_CLASSES)).all(), labels.unique()
    # Thing segments carry an instance id; stuff and void carry none.
    assert ((ids > 0) == (labels < NUM_THINGS)).all()


def _train_and_predict(cfg):
    """One training step and one inference; check losses, gradients and
    the panoptic map."""
    model = build(cfg)
    model.train()
    data = model.data_preprocessor(tiny_batch(0), True)
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss)
    loss.backward()
    for key, part in _parts(model):
        params = [(n, p) for n, p in part.named_parameters()
                  if p.requires_grad]
        missing = [n for n, p in params if p.grad is None]
        assert not missing, f'{key}: no gradient for {missing[:5]}'
        if params:
            assert any(p.grad.abs().sum() > 0 for _, p in params), key

    model.eval()
    data = model.data_preprocessor(tiny_batch(1), False)
    with torch.no_grad():
        (result, ) = model(**data, mode='predict')
    _check_panoptic_map(result.pred_panoptic_seg.sem_seg,
                        tuple(result.ori_shape))


@pytest.mark.parametrize('combo', LEGAL, ids=combo_id)
def test_legal_combination_trains_and_predicts(combo):
    _train_and_predict(compose(**combo))


def test_class_agnostic_mask_head_feeds_mam_and_logit_fusion():
    """One (N, 1, m, m) channel serves every instance's class."""
    cfg = compose(
        neck='FPN',
        roi='standard',
        semantic='UPSNetSemanticHead',
        attention='PAM+MAM',
        fusion='UPSNetPanopticHead')
    cfg.roi_head.mask_head.class_agnostic = True
    _train_and_predict(cfg)


def _mismatch(edit, **combo):
    """A config of the matrix, made illegal on purpose by ``edit``."""
    base = dict(
        neck='FPN',
        roi='standard',
        semantic='PanopticFPNPerClassHead',
        attention='PAM+MAM',
        fusion='HeuristicFusionHead')
    base.update(combo)
    cfg = compose(**base)
    edit(cfg)
    return cfg


def _bbox_head(**head):
    """An edit that puts another box head (``head``) in the config."""

    def edit(cfg):
        # Assigned, not update()d: ConfigDict.update merges the old keys in.
        cfg.roi_head.bbox_head = dict(
            in_channels=16, num_classes=NUM_THINGS, **head)

    return edit


MISMATCHES = {
    'adaptive-head-single-extractor':
    (_mismatch(
        _bbox_head(
            type='AdaptiveConvFCBBoxHead',
            num_shared_convs=0,
            num_shared_fcs=2)),
     r'model\.roi_head\.bbox_head \(AdaptiveConvFCBBoxHead, num_levels=4'
     r'.*\(N, L=4, C, h, w\).*model\.roi_head\.bbox_roi_extractor '
     r'\(SingleRoIExtractor\) gives \(N, C, h, w\)'),
    'plain-head-adaptive-extractor':
    (_mismatch(_bbox_head(type='Shared4Conv1FCBBoxHead'), roi='adaptive'),
     r'model\.roi_head\.bbox_head \(Shared4Conv1FCBBoxHead\) reads '
     r'\(N, C, h, w\).*model\.roi_head\.bbox_roi_extractor '
     r'\(AdaptiveRoIExtractor\) gives \(N, L=4'),
    'mask-head-levels-differ':
    (_mismatch(
        lambda c: c.roi_head.mask_head.update(num_levels=3),
        roi='adaptive_fc_fusion'),
     r'model\.roi_head\.mask_head \(FCFusionMaskHead, num_levels=3\).*'
     r'model\.roi_head\.mask_roi_extractor \(AdaptiveRoIExtractor\)'),
    'pam-rpn-channels':
    (_mismatch(lambda c: c.attention[0].update(rpn_channels=8)),
     r'model\.attention\[0\] \(PAM, rpn_channels=8\).*'
     r'model\.rpn_head \(RPNHead, feat_channels=16\)'),
    'mam-bg-channels':
    (_mismatch(lambda c: c.attention[1].update(bg_channels=8)),
     r'model\.attention\[1\] \(MAM, bg_channels=8\).*'
     r'model\.neck \(FPN, num_outs=5, out_channels=16\)'),
    'mam-strides':
    (_mismatch(lambda c: c.attention[1].update(strides=(4, 8, 16, 64))),
     r'model\.attention\[1\] \(MAM, strides=\(4, 8, 16, 64\)\).*'
     r'model\.rpn_head\.anchor_generator \(strides=\(4, 8, 16, 32, 64\)'),
    'attention-levels-beyond-neck':
    (_mismatch(lambda c: c.attention[0].update(num_levels=6)),
     r'model\.attention\[0\] \(PAM, num_levels=6\) reads 6 levels, but '
     r'model\.neck \(FPN, num_outs=5'),
    'attention-levels-not-read':
    (_mismatch(
        lambda c: c.attention[1].update(
            num_levels=5, strides=(4, 8, 16, 32, 64)),
        neck='PANetPathAug'),
     r'model\.attention\[1\] \(MAM, num_levels=5\) transforms levels '
     r'\[0, 5\).*model\.semantic_head \(PanopticFPNPerClassHead\) reads '
     r'only \[0, 4\)'),
    'semantic-channels': (
        _mismatch(
            lambda c: c.semantic_head.update(in_channels=8),
            semantic='UPSNetSemanticHead'),
        r'model\.semantic_head \(UPSNetSemanticHead, in_channels=8\) reads'
        r' 8-channel features, but model\.neck \(FPN'),
    'rpn-strides-vs-neck-levels':
    (_mismatch(lambda c: c.neck.update(num_outs=4), attention='none'),
     r'model\.rpn_head\.anchor_generator \(strides=\(4, 8, 16, 32, 64\)'
     r'.*model\.neck \(FPN, num_outs=4'),
}


@pytest.mark.parametrize('case', MISMATCHES)
def test_mismatch_fails_at_build_naming_both_parts(case):
    cfg, message = MISMATCHES[case]
    with pytest.raises(ValueError, match=message):
        build(cfg)
