"""The AUNet configs: paper settings, ablation rows, one train step whose
BG loss reaches the attention, the RPN and the mask head, one valid
panoptic prediction, and build-time errors."""
import pytest
import torch
from mmdet.datasets import CocoPanopticDataset
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from panoptic_zoo.datasets import SYNTHETIC_METAINFO
from panoptic_zoo.registry import DATASETS, MODELS
from panoptic_zoo.testing import config_path, tiny_synthetic_config

COCO = 'aunet/aunet_r50_fpn_1x_coco.py'
FULL = 'aunet/aunet_r18-tiny_fpn_2k_synthetic.py'
MIX_COCO = 'mix/panoptic-panet-aunet-attention_r50_path-aug-fpn_1x_coco.py'
MIX_SYN = ('mix/panoptic-panet-aunet-attention_r18-tiny_path-aug-fpn_2k_'
           'synthetic.py')
ROWS = {  # Table 1 row: (PAM reweight, MAM reweight, MAM normalize)
    'e2e': (None, None, None),
    'pam': (False, None, None),
    'pam-rewt': (True, None, None),
    'mam': (None, False, True),
    'mam-rewt': (None, True, True),
    'exact-upsample': (True, True, False),
}


def _row(name):
    return f'aunet/aunet-{name}_r18-tiny_fpn_2k_synthetic.py'


def _flat(cfg, prefix=''):
    out = {}
    for key, value in cfg.items():
        if isinstance(value, dict):
            out.update(_flat(value, f'{prefix}{key}.'))
        elif key != '_delete_':
            out[f'{prefix}{key}'] = value
    return out


def test_coco_config_has_the_paper_settings():
    cfg = Config.fromfile(config_path(COCO))
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    pam, mam = model.attention
    assert (type(pam).__name__, type(mam).__name__) == ('PAM', 'MAM')
    assert pam.num_levels == mam.num_levels == 4
    assert pam.reweights is not None and mam.reweights is not None
    assert mam.normalize and mam.strides == (4, 8, 16, 32)
    assert pam.attention_convs[0][0].in_channels == 256
    # λ: RPN 1, RCNN 1, mask 1, semantic 0.3; GN in both branches.
    assert model.rpn_head.loss_cls.loss_weight == 1.0
    assert model.roi_head.bbox_head.loss_cls.loss_weight == 1.0
    assert model.roi_head.mask_head.loss_mask.loss_weight == 1.0
    assert model.semantic_head.loss_seg.loss_weight == 0.3
    assert type(model.roi_head.bbox_head).__name__ == \
        'Shared4Conv1FCBBoxHead'
    assert model.roi_head.bbox_head.shared_convs[0].norm_cfg['type'] == 'GN'
    assert model.roi_head.mask_head.convs[0].norm_cfg['type'] == 'GN'
    fusion = model.panoptic_fusion_head
    assert type(fusion).__name__ == 'AUNetFusionHead'
    assert fusion.thing_classes == \
        CocoPanopticDataset.METAINFO['thing_classes']
    tie, person = (fusion.thing_classes.index(n) for n in ('tie', 'person'))
    assert fusion.relations[tie, person] and not fusion.relations[person, tie]
    assert [p.reads for p in model.attention] == [('rpn_feats', ),
                                                  ('instances', )]


def test_mix_puts_pam_and_mam_on_panet():
    cfg = Config.fromfile(config_path(MIX_COCO))
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert type(model.neck).__name__ == 'PANetPathAug'
    assert type(model.roi_head.mask_head).__name__ == 'FCFusionMaskHead'
    assert [type(a).__name__ for a in model.attention] == ['PAM', 'MAM']
    # MAM pastes with the convention PANet's mask head pooled with.
    assert not model.attention[1].aligned
    assert model.attention[1].sampling_ratio == 2


def test_ablation_rows_change_only_the_attention():
    full = _flat(Config.fromfile(config_path(FULL))._cfg_dict)
    thing = full['model.panoptic_fusion_head.thing_classes']
    assert tuple(thing) == SYNTHETIC_METAINFO['thing_classes']
    for name, (pam_rw, mam_rw, mam_norm) in ROWS.items():
        cfg = Config.fromfile(config_path(_row(name)))
        row = _flat(cfg._cfg_dict)
        changed = {
            k
            for k in full.keys() | row.keys() if full.get(k) != row.get(k)
        }
        assert changed == {'model.attention'}, (name, changed)
        kinds = {a['type']: a for a in cfg.model.attention}
        assert kinds.get('PAM', {}).get('reweight') == pam_rw
        assert kinds.get('MAM', {}).get('reweight') == mam_rw
        assert kinds.get('MAM', {}).get('normalize') == mam_norm


def _check_panoptic_map(pan, ori_shape, num_things=4, num_stuff=3):
    assert pan.shape == (1, ) + tuple(ori_shape)
    labels, ids = pan % INSTANCE_OFFSET, pan // INSTANCE_OFFSET
    assert (labels <= num_things + num_stuff).all()  # void = T + S
    assert (ids[labels < num_things] >= 1).all()
    assert (ids[labels >= num_things] == 0).all()


def _grad_norm(module):
    return sum(
        float(p.grad.abs().sum()) for p in module.parameters()
        if p.grad is not None)


@pytest.mark.parametrize('relative', [FULL, MIX_SYN])
@pytest.mark.slow
def test_synthetic_trains_and_predicts(relative, synthetic_root, tmp_path):
    cfg = tiny_synthetic_config(synthetic_root, str(tmp_path), 1, relative)
    # Fewer RoIs: the GN 4conv box head dominates a CPU step.
    cfg.model.train_cfg.rcnn.sampler.num = 32
    cfg.model.test_cfg.rcnn.max_per_img = 20
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    data = model.data_preprocessor(
        pseudo_collate([train_set[0], train_set[1]]), True)
    model.train()
    losses = model(**data, mode='loss')
    assert {'loss_seg', 'loss_mask', 'loss_cls', 'loss_rpn_cls'} <= \
        set(losses)
    parts = [
        v for vs in losses.values()
        for v in (vs if isinstance(vs, list) else [vs])
    ]
    assert all(torch.isfinite(v).all() for v in parts), losses
    # The semantic loss alone trains the attention and, through PAM and
    # MAM, the RPN conv and the mask head, but not the RPN classifier.
    losses['loss_seg'].backward(retain_graph=True)
    for plugin in model.attention:
        # Every parameter takes part (DDP needs it); a MAM level that no
        # box maps to has a zero input, so only its biases move.
        assert all(p.grad is not None for p in plugin.parameters())
        for level in range(plugin.num_levels):
            assert _grad_norm(plugin.attention_convs[level]) > 0
            assert _grad_norm(plugin.reweights[level]) > 0
    assert _grad_norm(model.rpn_head.rpn_conv) > 0
    assert _grad_norm(model.rpn_head.rpn_cls) == 0
    assert _grad_norm(model.roi_head.mask_head) > 0
    assert _grad_norm(model.roi_head.bbox_head) == 0
    model.parse_losses(losses)[0].backward()
    assert not model.rpn_head.rpn_conv._forward_hooks  # returned, no hook

    model.eval()
    val_set = DATASETS.build(cfg.val_dataloader.dataset)
    # Every detection (random init), then none at all; the mix once.
    rounds = ((0., True), (1.1, False))[:2 if relative == FULL else 1]
    for score_thr, has_things in rounds:
        model.roi_head.test_cfg.score_thr = score_thr
        with torch.no_grad():
            pred = model.val_step(pseudo_collate([val_set[0]]))[0]
        pan = pred.pred_panoptic_seg.sem_seg
        _check_panoptic_map(pan, pred.ori_shape)
        assert bool((pan % INSTANCE_OFFSET < 4).any()) == has_things
    # The FLOP-counting path (tensors only) runs with the plugins too.
    batch = model.data_preprocessor(pseudo_collate([val_set[0]]))
    with torch.no_grad():
        outs = model(**batch, mode='tensor')
    assert torch.isfinite(outs[-1]).all()


def test_no_plugin_no_extra_work(synthetic_root, tmp_path):
    """The e2e row reads no FG field: one mask-head run per training step
    (the RoI head's loss), none for the attention."""
    cfg = tiny_synthetic_config(synthetic_root, str(tmp_path), 1, _row('e2e'))
    model = MODELS.build(cfg.model).train()
    assert len(model.attention) == 0
    calls = []
    mask_forward = model.roi_head._mask_forward
    model.roi_head._mask_forward = lambda *a: calls.append(1) or \
        mask_forward(*a)
    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    batch = model.data_preprocessor(pseudo_collate([train_set[0]]), True)
    model.loss(**batch)
    assert len(calls) == 1


def test_bad_configs():
    cfg = Config.fromfile(config_path(FULL))
    bad = cfg.model.deepcopy()
    bad.panoptic_fusion_head.relations = [('tie', 'square')]
    with pytest.raises(ValueError, match="'tie', which is not a thing class"):
        MODELS.build(bad)
    bad = cfg.model.deepcopy()
    bad.panoptic_fusion_head.thing_classes = ('circle', 'square')
    with pytest.raises(ValueError, match='must list the num_things_classes'):
        MODELS.build(bad)
    bad = cfg.model.deepcopy()
    bad.roi_head.mask_head = None
    bad.roi_head.mask_roi_extractor = None
    with pytest.raises(ValueError, match=r'model.attention \(MAM\) reads FG'):
        MODELS.build(bad)
    bad = cfg.model.deepcopy()
    bad.attention[0].rpn_chanels = 64
    with pytest.raises(TypeError, match='rpn_chanels'):
        MODELS.build(bad)
    assert 'rpn_chanels' not in cfg.model.attention[0]  # copies only
