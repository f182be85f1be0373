"""FCFusionMaskHead = FCN logits + ReLU(fc(conv5_fc(conv4_fc(conv3))))
reshaped to one class-agnostic 28x28 mask."""
import pytest
import torch
from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.testing import demo_mm_inputs, demo_mm_proposals
from mmdet.testing._utils import demo_mm_sampling_results
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from panoptic_zoo.models.mask_heads import FCFusionMaskHead
from panoptic_zoo.registry import MODELS

C, K, L = 8, 3, 4
GN = dict(type='GN', num_groups=2, requires_grad=True)


def _head(**overrides):
    cfg = dict(
        num_levels=L,
        num_convs=4,
        in_channels=C,
        conv_out_channels=C,
        num_classes=K,
        norm_cfg=GN,
        fc_conv_channels=(C, C // 2))
    cfg.update(overrides)
    return FCFusionMaskHead(**cfg)


def _randomise(head, seed=1):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in head.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    return head


def _x(n=3, seed=0, levels=L):
    gen = torch.Generator().manual_seed(seed)
    shape = (n, levels, C, 14, 14) if levels else (n, C, 14, 14)
    return torch.randn(*shape, generator=gen)


def _hand_built(head, x):
    """Official ``mask_rcnn_fcn_head_v1up4convs_gn_adp_ff`` dataflow."""
    x = torch.stack([
        head.level_fusion.layers[lvl](x[:, lvl]) for lvl in range(L)
    ]).amax(0)  # conv1 per level, max
    conv2, conv3, conv4 = head.convs
    x = conv3(conv2(x))
    fcn = head.conv_logits(head.upsample(conv4(x)).relu())  # (N, K, 28, 28)
    ff = head.fc_convs[1](head.fc_convs[0](x))  # conv4_fc, conv5_fc
    ff = head.fc_mask(ff.flatten(1)).relu().view(-1, 1, 28, 28)
    return fcn, ff


def test_equals_fcn_logits_plus_reshaped_fc():
    head = _randomise(_head()).eval()
    x = _x()
    fcn, ff = _hand_built(head, x)
    out = head(x)
    assert out.shape == (3, K, 28, 28)
    torch.testing.assert_close(out, fcn + ff.expand(-1, K, -1, -1))
    # The fc mask is class-agnostic: the same increment for every class.
    delta = out - fcn
    for k in range(1, K):
        torch.testing.assert_close(delta[:, k], delta[:, 0])
    assert (delta > 0).any()


def test_fc_relu_only_raises_logits():
    """Official: ReLU after the fc. A negative fc output adds nothing with
    it and subtracts without it (``fc_relu=False``, mmdet 1.x ports)."""
    x = _x()
    for fc_relu, expect_change in ((True, 0.), (False, -2.)):
        head = _randomise(_head(fc_relu=fc_relu)).eval()
        with torch.no_grad():
            head.fc_mask.weight.zero_()
            head.fc_mask.bias.fill_(-2.)
        fcn, _ = _hand_built(head, x)
        torch.testing.assert_close(head(x), fcn + expect_change)


def test_official_layout_and_init():
    head = FCFusionMaskHead(norm_cfg=dict(type='GN', num_groups=32))
    assert [m.conv.out_channels for m in head.fc_convs] == [256, 128]
    assert head.fc_convs[1].norm.num_groups == 32
    assert (head.fc_mask.in_features,
            head.fc_mask.out_features) == (128 * 14 * 14, 28 * 28)
    assert head.num_levels == 4 and len(head.convs) == 3
    head.init_weights()
    assert abs(head.fc_mask.weight.std().item() - 0.01) < 1e-3
    assert head.fc_mask.bias.abs().sum() == 0


def test_without_levels_takes_single_level_features():
    head = _randomise(_head(num_levels=None)).eval()
    assert len(head.convs) == 4
    x = _x(levels=None)
    y = x
    for conv in head.convs[:3]:
        y = conv(y)
    ff = head.fc_mask(head.fc_convs[1](head.fc_convs[0](y)).flatten(1))
    fcn = head.conv_logits(head.upsample(head.convs[3](y)).relu())
    torch.testing.assert_close(head(x), fcn + ff.relu().view(-1, 1, 28, 28))
    # and mmdet's FCNMaskHead with the same FCN weights gives ``fcn``.
    ref = FCNMaskHead(
        num_convs=4,
        in_channels=C,
        conv_out_channels=C,
        num_classes=K,
        norm_cfg=GN).eval()
    ref.load_state_dict({
        k: v
        for k, v in head.state_dict().items()
        if not k.startswith(('fc_convs.', 'fc_mask.'))
    })
    torch.testing.assert_close(ref(x), fcn)


def test_gradients_reach_every_level_and_the_fc_path():
    head = _head()
    x = _x().requires_grad_()
    out = head(x)
    gen = torch.Generator().manual_seed(3)
    (out * torch.randn(out.shape, generator=gen)).sum().backward()
    for lvl in range(L):
        assert x.grad[:, lvl].abs().sum() > 0, lvl
        assert head.level_fusion.layers[lvl].conv.weight.grad.abs().sum() > 0
    for name, p in head.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def _loss_inputs(num_items):
    data = demo_mm_inputs(
        batch_size=1,
        image_shapes=[(3, 64, 64)],
        num_items=[num_items],
        num_classes=K,
        with_mask=True)
    gt = [s.gt_instances for s in data['data_samples']]
    proposals = demo_mm_proposals([(3, 64, 64)], 20)
    sampling = demo_mm_sampling_results(proposals, gt)
    return gt, sampling


def test_loss_and_predict():
    torch.manual_seed(0)
    head = _head()
    gt, sampling = _loss_inputs(3)
    num_pos = sum(len(s.pos_priors) for s in sampling)
    preds = head(_x(n=num_pos))
    cfg = ConfigDict(mask_size=28)
    loss = head.loss_and_target(preds, sampling, gt, cfg)['loss_mask']
    assert torch.isfinite(loss['loss_mask']) and loss['loss_mask'] > 0
    loss['loss_mask'].backward()

    results = [
        dict(
            bboxes=torch.tensor([[2., 3., 30., 40.], [10., 10., 60., 50.]]),
            labels=torch.tensor([0, 2]),
            scores=torch.tensor([.9, .8]))
    ]
    results = [InstanceData(**r) for r in results]
    meta = [
        dict(img_shape=(64, 64), ori_shape=(64, 64), scale_factor=(1., 1.))
    ]
    out = head.predict_by_feat((head(_x(n=2)), ), results, meta,
                               ConfigDict(mask_thr_binary=0.5))
    assert out[0].masks.shape == (2, 64, 64) and out[0].masks.dtype == \
        torch.bool


def test_empty_instances():
    head = _head()
    preds = head(torch.zeros(0, L, C, 14, 14))
    assert preds.shape == (0, K, 28, 28)
    gt, sampling = _loss_inputs(0)  # no GT: no positive RoI
    assert sum(len(s.pos_priors) for s in sampling) == 0
    loss = head.loss_and_target(preds, sampling, gt,
                                ConfigDict(mask_size=28))['loss_mask']
    assert loss['loss_mask'] == 0


def test_bad_configs_and_inputs_raise():
    with pytest.raises(ValueError, match='num_convs must be >= 2'):
        _head(num_convs=1)
    with pytest.raises(ValueError, match='fc_conv_channels must be a non'):
        _head(fc_conv_channels=())
    with pytest.raises(TypeError, match='fc_relus'):
        MODELS.build(dict(type='FCFusionMaskHead', fc_relus=True))
    with pytest.raises(ValueError, match=r'roi_feat_size=\(14, 14\) but'):
        _head()(torch.zeros(2, L, C, 7, 7))
    with pytest.raises(ValueError, match=r'expects \(N, L, C, h, w\)'):
        _head()(torch.zeros(2, C, 14, 14))
