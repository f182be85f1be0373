"""``panoptic-zoo compose``: the written config loads, fills each part from
the base, equals the hand-written mixes, builds and trains; bad parts, bases
and outputs are refused with the reason and nothing is written."""
import numpy as np
import pytest
import torch
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config

from panoptic_zoo.cli import main
from panoptic_zoo.models.segmentors.wiring import fill_from_neck
from panoptic_zoo.registry import MODELS
from panoptic_zoo.testing import config_path

SYN = config_path('panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py')
GN8 = dict(type='GN', num_groups=8, requires_grad=True)


def _compose(tmp_path, *args, name='out.py'):
    """Run the command with ``-o``; load what it wrote."""
    out = tmp_path / name
    main(['compose', *args, '-o', str(out)])
    return Config.fromfile(str(out))


def _plain(value):
    """Config values without ``_delete_`` and with tuples as lists, and
    without the ``_scope_='panoptic_zoo'`` MMEngine marks the dicts of a
    ``panoptic_zoo::`` base with (the scope they build in anyway)."""
    if isinstance(value, dict):
        return {
            k: _plain(v)
            for k, v in value.items() if k not in ('_delete_', '_scope_')
        }
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def test_attention_and_upsnet_fusion_on_panoptic_fpn(tmp_path, capsys):
    cfg = _compose(tmp_path, '--base', 'panoptic_fpn', '--synthetic', '--neck',
                   'PANetPathAug', '--attention', 'PAM', 'MAM', '--fusion',
                   'UPSNetPanopticHead')
    base, model = Config.fromfile(SYN).model, cfg.model
    # The base as the segmentor builds it: widths from the neck.
    wired = Config(dict(model=fill_from_neck(base.to_dict()))).model
    # The neck: the base's FPN geometry, GN like the base's heads, and
    # nothing else of FPN's (the slot was replaced with _delete_).
    assert model.neck.to_dict() == dict(
        type='PANetPathAug',
        in_channels=[16, 32, 64, 128],
        out_channels=64,
        num_outs=5,
        norm_cfg=GN8)
    assert model.neck.in_channels == base.neck.in_channels
    assert model.neck.out_channels == base.neck.out_channels == 64
    assert model.neck.norm_cfg == base.semantic_head.norm_cfg
    pam, mam = model.attention
    assert (pam.type, mam.type) == ('PAM', 'MAM')
    # Widths and strides are left to flow from the neck and the RPN.
    assert not {'rpn_channels', 'bg_channels', 'strides'} & (set(pam)
                                                              | set(mam))
    pam_built, mam_built = fill_from_neck(model.to_dict())['attention']
    assert pam_built['rpn_channels'] == wired.rpn_head.feat_channels == 64
    assert pam_built['bg_channels'] == mam_built['bg_channels'] == 64
    assert tuple(mam_built['strides']) == tuple(
        base.rpn_head.anchor_generator.strides[:4]) == (4, 8, 16, 32)
    assert pam.num_levels == mam.num_levels == 4
    assert pam.norm_cfg == mam.norm_cfg == GN8
    # UPSNet's fusion reads per-thing-class logits: the semantic head is
    # swapped for the per-class one, with the base's settings.
    sem = model.semantic_head
    assert sem.type == 'PanopticFPNPerClassHead'
    assert (sem.num_things_classes, sem.num_stuff_classes) == (4, 3)
    # Its width is left to flow from the neck, as in the base.
    assert 'in_channels' not in sem and sem.inner_channels == 32
    fusion = model.panoptic_fusion_head
    assert fusion.type == 'UPSNetPanopticHead'
    # Its class counts are the semantic head's when the model is built.
    fused = fill_from_neck(model.to_dict())['panoptic_fusion_head']
    assert (fused['num_things_classes'], fused['num_stuff_classes']) == (
        wired.panoptic_fusion_head.num_things_classes,
        wired.panoptic_fusion_head.num_stuff_classes) == (4, 3)
    assert model.test_cfg.panoptic.to_dict() == dict(
        mask_overlap=0.3, stuff_area_limit=64)
    # Slots not asked for are the base's.
    for key in ('backbone', 'rpn_head', 'roi_head', 'train_cfg'):
        assert model[key] == base[key], key
    assert model.test_cfg.rcnn == base.test_cfg.rcnn
    printed = capsys.readouterr()
    assert f'panoptic-zoo train {tmp_path / "out.py"}' in printed.out
    assert 'PanopticFPNHead -> PanopticFPNPerClassHead' in printed.err

    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    net = MODELS.build(cfg.model)
    assert type(net.neck).__name__ == 'PANetPathAug'
    assert net.attention[1].strides == (4, 8, 16, 32)
    assert [p.reads for p in net.attention] == [('rpn_feats', ),
                                                ('instances', )]
    np.random.seed(0)
    batch = demo_mm_inputs(
        batch_size=2,
        image_shapes=[(3, 96, 128), (3, 128, 96)],
        num_items=[2, 3],
        num_classes=4,
        with_mask=True,
        with_semantic=True)
    net.train()
    losses = net(**net.data_preprocessor(batch, True), mode='loss')
    assert {
        'loss_seg', 'loss_panoptic', 'loss_mask', 'loss_cls', 'loss_rpn_cls'
    } <= set(losses)
    total, _ = net.parse_losses(losses)
    assert torch.isfinite(total) and total > 0


# (base, --synthetic, compose arguments) = the hand-written config.
SAME_AS_BY_HAND = [
    ('panet', True, ['--attention', 'PAM', 'MAM'],
     'mix/panoptic-panet-aunet-attention_r18-tiny_path-aug-fpn_2k_synthetic.py'
     ),
    ('panet', True,
     ['--attention', 'PAM', 'MAM', '--fusion', 'UPSNetPanopticHead'
      ], 'mix/panet-aunet-upsnet_r18-tiny_path-aug-fpn_2k_synthetic.py'),
    ('panoptic_fpn', False, ['--fusion', 'UPSNetPanopticHead'],
     'mix/panoptic-fpn-upsnet-fusion_r50_fpn_1x_coco.py'),
    ('aunet', True, ['--fusion', 'UPSNetPanopticHead'],
     'mix/aunet-upsnet-fusion_r18-tiny_fpn_2k_synthetic.py'),
    ('upsnet', True, [
        '--roi-extractor', 'AdaptiveRoIExtractor', '--bbox-head',
        'AdaptiveConvFCBBoxHead', '--mask-head', 'FCFusionMaskHead'
    ], 'mix/upsnet-panet-heads_r18-tiny_fpn_2k_synthetic.py'),
    ('panoptic_fpn', True, [
        '--neck', 'PANetPathAug', '--roi-extractor', 'AdaptiveRoIExtractor',
        '--bbox-head', 'AdaptiveConvFCBBoxHead', '--mask-head',
        'FCFusionMaskHead'
    ], 'panet/panoptic-panet_r18-tiny_path-aug-fpn_2k_synthetic.py'),
    ('panoptic_fpn', True, ['--attention', 'PAM'],
     'mix/panoptic-fpn-pam_r18-tiny_fpn_2k_synthetic.py'),
]


@pytest.mark.parametrize('base,synthetic,args,by_hand', SAME_AS_BY_HAND)
def test_same_model_config_as_by_hand(base, synthetic, args, by_hand,
                                      tmp_path):
    cfg = _compose(tmp_path, '--base', base,
                   *(['--synthetic'] if synthetic else []), *args)
    hand = Config.fromfile(config_path(by_hand))
    assert _plain(cfg.model.to_dict()) == _plain(hand.model.to_dict())


def test_switching_back_drops_the_old_parts_arguments(tmp_path, capsys):
    """UPSNet → Panoptic FPN's semantic head and heuristic fusion: none of
    UPSNet's arguments or test settings remain; ``--set`` adds keys; the
    printed text is the config."""
    main([
        'compose', '--base', 'upsnet', '--synthetic', '--semantic-head',
        'PanopticFPNHead', '--fusion', 'HeuristicFusionHead', '--set',
        'train_cfg.max_iters=100',
        'model.roi_head.bbox_head.fc_out_channels=128'
    ])
    printed = capsys.readouterr()
    assert printed.out.startswith('# Composed by: panoptic-zoo compose')
    assert 'panoptic-zoo train OUT.py' in printed.err
    out = tmp_path / 'printed.py'
    out.write_text(printed.out)
    cfg = Config.fromfile(str(out))
    upsnet = Config.fromfile(
        config_path('upsnet/upsnet_r18-tiny_fpn_2k_synthetic.py')).model
    sem = cfg.model.semantic_head
    assert sem.type == 'PanopticFPNHead'
    assert 'num_convs' not in sem and 'loss_roi' not in sem
    assert sem.norm_cfg == GN8 and sem.conv_cfg is None
    assert sem.loss_seg == upsnet.semantic_head.loss_seg  # the base's weight
    # Class counts are left to the semantic head's (wiring.READS).
    assert cfg.model.panoptic_fusion_head.to_dict() == dict(
        type='HeuristicFusionHead')
    assert cfg.model.test_cfg.panoptic.to_dict() == dict(
        mask_overlap=0.5, stuff_area_limit=64)
    assert cfg.train_cfg.max_iters == 100
    assert cfg.model.roi_head.bbox_head.fc_out_channels == 128
    assert cfg.model.roi_head.bbox_head.num_classes == 4  # merged, kept


def test_parts_of_every_origin_and_unchanged_slots(tmp_path, capsys):
    pytest.importorskip('panoptic_zoo_example')
    cfg = _compose(tmp_path, '--base', 'aunet', '--synthetic', '--neck',
                   'PAFPN', '--attention', 'ProposalGateAttention', 'MAM',
                   '--bbox-head', 'Shared4Conv1FCBBoxHead')
    gate, mam = cfg.model.attention
    # A plugin's width flows from the neck (bg_channels, wiring.READS);
    # MAM is the base's.
    assert gate.to_dict() == dict(type='ProposalGateAttention')
    assert fill_from_neck(cfg.model.to_dict())['attention'][0] == dict(
        type='ProposalGateAttention', bg_channels=64)
    base = Config.fromfile(
        config_path('aunet/aunet_r18-tiny_fpn_2k_synthetic.py')).model
    assert mam == base.attention[1]
    assert cfg.model.neck.type == 'PAFPN'  # mmdet's
    assert cfg.model.roi_head.bbox_head == base.roi_head.bbox_head
    assert 'model.roi_head.bbox_head unchanged: already ' \
        'Shared4Conv1FCBBoxHead' in capsys.readouterr().err
    cfg = _compose(
        tmp_path,
        '--base',
        'aunet',
        '--synthetic',
        '--no-attention',
        name='none.py')
    assert cfg.model.attention == []


def _refused(tmp_path, match, *args):
    out = tmp_path / 'out.py'
    with pytest.raises(SystemExit, match=match):
        main([
            'compose', '--base', 'panoptic_fpn', '--synthetic', *args, '-o',
            str(out)
        ])
    assert not out.exists()


def test_unknown_part_is_named_with_close_matches(tmp_path):
    _refused(
        tmp_path, r"--neck PANetPathAgu: no model component named "
        r"'PANetPathAgu'; did you mean PANetPathAug\?", '--neck',
        'PANetPathAgu')
    _refused(tmp_path, r"--attention PAN: .*did you mean .*PAM", '--attention',
             'PAN')


@pytest.mark.parametrize('flag,name,match', [
    ('--fusion', 'CocoPanopticDataset',
     'CocoPanopticDataset is in the dataset registry, not the model '
     'registry; a fusion head is a model part, e.g. AUNetFusionHead'),
    ('--neck', 'PAM', r'PAM \(panoptic-zoo, .*\) is not a neck; it fits '
     '--attention'),
    ('--attention', 'BackgroundReweight', 'is not an attention plugin'),
    ('--semantic-head', 'UPSNetPanopticHead',
     'is not a semantic head; it fits --fusion'),
])
def test_part_of_the_wrong_kind(flag, name, match, tmp_path):
    _refused(tmp_path, match, flag, name)


def test_build_error_is_surfaced_and_nothing_written(tmp_path):
    _refused(
        tmp_path, r'(?s)does not build:.*UPSNetPanopticHead\) needs one '
        r'semantic logit channel per thing class.*PanopticFPNHead\) gives 1',
        '--semantic-head',
        'PanopticFPNHead', '--fusion', 'UPSNetPanopticHead')


def test_output_file_rules(tmp_path):
    args = [
        'compose', '--base', 'panoptic_fpn', '--synthetic', '--attention',
        'PAM'
    ]
    out = tmp_path / 'new' / 'dir' / 'mix.py'  # directories are made
    main(args + ['-o', str(out)])
    assert Config.fromfile(str(out)).model.attention[0].type == 'PAM'
    out.write_text('# mine\n')
    with pytest.raises(SystemExit, match='exists; pass --force'):
        main(args + ['-o', str(out)])
    assert out.read_text() == '# mine\n'
    main(args + ['-o', str(out), '--force'])
    assert Config.fromfile(str(out)).model.attention[0].type == 'PAM'
    with pytest.raises(SystemExit, match=r'must end in \.py'):
        main(args + ['-o', str(tmp_path / 'mix.txt')])
    assert not (tmp_path / 'mix.txt').exists()


def test_base_given_as_a_config_path(tmp_path):
    # A zoo config: found through panoptic_zoo, so the output can be
    # anywhere; the base's PAM is kept, MAM is added.
    pam = 'mix/panoptic-fpn-pam_r18-tiny_fpn_2k_synthetic.py'
    cfg = _compose(tmp_path, '--base', config_path(pam), '--attention', 'PAM',
                   'MAM')
    text = (tmp_path / 'out.py').read_text()
    assert f"_base_ = 'panoptic_zoo::{pam}'" in text
    assert cfg.model.attention[0] == Config.fromfile(
        config_path(pam)).model.attention[0]
    assert cfg.model.attention[1].type == 'MAM'
    # A user's config: its own values feed the parts.
    mine = tmp_path / 'mine' / 'my_fpn.py'
    mine.parent.mkdir()
    mine.write_text(f'_base_ = {SYN!r}\nmodel = dict(semantic_head=dict('
                    'inner_channels=16), test_cfg=dict(panoptic=dict('
                    'stuff_area_limit=100)))\n')
    cfg = _compose(
        tmp_path,
        '--base',
        str(mine),
        '--fusion',
        'UPSNetPanopticHead',
        name='mix.py')
    assert f'_base_ = {str(mine)!r}' in (tmp_path / 'mix.py').read_text()
    assert cfg.model.semantic_head.type == 'PanopticFPNPerClassHead'
    assert cfg.model.semantic_head.inner_channels == 16
    assert cfg.model.test_cfg.panoptic.stuff_area_limit == 100
    with pytest.raises(SystemExit, match='--synthetic picks'):
        main(['compose', '--base', str(mine), '--synthetic'])
    with pytest.raises(SystemExit, match='not a PanopticSegmentor config'):
        main([
            'compose', '--base',
            config_path('panet/panet_r18-tiny_path-aug-fpn_2k_synthetic.py')
        ])
