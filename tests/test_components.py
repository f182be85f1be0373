"""``panoptic-zoo list`` / ``info``: every component with kind and origin."""
import pytest
from mmdet.models.necks import FPN

from panoptic_zoo.cli import main
from panoptic_zoo.components import (arg_docs, describe, find_component,
                                     list_components, resolve_kind, summary)
from panoptic_zoo.models import PanopticSegmentor

EXAMPLE = 'panoptic-zoo-example'


@pytest.fixture(scope='module')
def models():
    return {c.name: c for c in list_components('model')}


def test_ours_mmdets_and_plugins_with_origin(models):
    assert models['PanopticSegmentor'].origin == 'panoptic-zoo'
    assert models['PanopticSegmentor'].obj is PanopticSegmentor
    assert models['PanopticSegmentor'].scope == 'panoptic_zoo'
    assert models['FPN'].origin == 'mmdet' and models['FPN'].obj is FPN
    assert models['ProposalGateAttention'].origin == EXAMPLE
    assert models['SemanticCheckFusionHead'].origin == EXAMPLE
    assert models['ProposalGateAttention'].summary.startswith(
        'BG attention gated by the RPN proposals')
    # MMEngine's root registry is visible too (torch layers through mmcv).
    assert models['Conv2d'].scope == 'mmengine'


def test_every_kind_and_origin_filter():
    everything = list_components()
    kinds = {c.kind for c in everything}
    assert {'model', 'dataset', 'transform', 'metric', 'hook'} <= kinds
    names = [(c.kind, c.name) for c in everything]
    assert len(names) == len(set(names))  # a shadowed name is listed once
    assert ('dataset', 'SyntheticPanopticDataset') in names
    assert ('transform', 'LoadPanopticAnnotations') in names
    plugin = list_components(origin='panoptic_zoo_example')  # normalised
    assert {c.name
            for c in plugin
            } == {'ProposalGateAttention', 'SemanticCheckFusionHead'}


def test_kind_names():
    assert resolve_kind('MODELS') == resolve_kind('models') == 'model'
    assert resolve_kind('param_schedulers') == 'param_scheduler'
    with pytest.raises(
            ValueError, match="unknown component kind 'nope'.*"
            'model, dataset'):
        resolve_kind('nope')


def test_summary_is_first_sentence():

    def documented():
        """First line wraps
        onto the next (Sec. 3). Second sentence.

        Body.
        """

    assert summary(documented) == 'First line wraps onto the next (Sec. 3).'
    assert summary(lambda: None) == ''


def test_arg_docs_parses_google_style():
    docs = arg_docs("""Title.

    Args:
        in_channels (int): Channels,
            of every level.
        strides (Sequence[int]): One per level.
        **kwargs: Passed on.

    Returns:
        Tensor: Not an argument.
    """)
    assert docs == {
        'in_channels': 'Channels, of every level.',
        'strides': 'One per level.',
        'kwargs': 'Passed on.'
    }


def test_info_shows_signature_defaults_and_docs():
    (component, ) = find_component('ProposalGateAttention')
    text = describe(component)
    assert f'origin:  {EXAMPLE} 0.1.0 (plugin)' in text
    assert 'bg_channels: int (required)' in text
    assert 'top_k: int = 100' in text
    assert 'Proposals per image used, highest objectness first.' in text
    assert 'Args:' not in text  # the arguments are listed, not repeated


def test_unknown_name_suggests():
    with pytest.raises(KeyError, match="'FPNN'.*did you mean FPN"):
        find_component('FPNN')


def test_cli_list_and_info(capsys):
    main(['list', 'model', '--origin', EXAMPLE])
    out = capsys.readouterr().out
    assert 'KIND' in out and 'ORIGIN' in out
    rows = [line for line in out.splitlines() if line.startswith('model ')]
    assert len(rows) == 2 and all(EXAMPLE in row for row in rows)
    assert f'plugin {EXAMPLE} 0.1.0: loaded' in out
    main(['info', 'FPN'])
    out = capsys.readouterr().out
    assert 'origin:  mmdet' in out and 'num_outs: int (required)' in out
