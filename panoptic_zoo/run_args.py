"""Arguments of ``panoptic-zoo train`` / ``test`` (and ``tools/*.py``).

Importing this module imports no framework (``panoptic-zoo train --help``
is instant); :func:`train` and :func:`test` import the engine when run.
"""
import argparse


class LazyDictAction(argparse.Action):
    """MMEngine's ``DictAction`` (``k=v`` overrides), imported when an
    option is parsed rather than when the parser is built."""

    def __call__(self, parser, namespace, values, option_string=None):
        from mmengine.config import DictAction
        DictAction(self.option_strings, self.dest, nargs=self.nargs)(
            parser, namespace, values, option_string)


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        'config',
        help='config file, or a zoo config by name (e.g. '
        'panoptic-fpn_r18-tiny_fpn_2k_synthetic)')
    parser.add_argument(
        '--work-dir',
        help='where logs and checkpoints go (default: '
        './work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=LazyDictAction,
        help='override config keys, e.g. train_cfg.max_iters=100')
    parser.add_argument(
        '--data-root',
        help='dataset root (COCO panoptic layout) replacing the config\'s')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher (use "pytorch" under torchrun)')
    parser.add_argument(
        '--skip-data-check',
        action='store_true',
        help='start without checking the dataset annotations first')


def add_train_args(parser: argparse.ArgumentParser) -> None:
    add_common_args(parser)
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or with no value from the latest '
        'checkpoint in the work dir')
    parser.add_argument(
        '--load-from', help='initialise weights from this checkpoint')
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision')


def add_test_args(parser: argparse.ArgumentParser) -> None:
    add_common_args(parser)
    parser.add_argument('checkpoint', help='checkpoint file or URL')
    parser.add_argument(
        '--out', help='write every prediction as COCO panoptic PNGs + JSON '
        'to this folder')
    parser.add_argument(
        '--show-dir', help='write image | ground truth | prediction '
        'pictures (with per-image PQ) to this folder')


def train(args: argparse.Namespace):
    from panoptic_zoo.engine.launch import train as run
    return run(args)


def test(args: argparse.Namespace):
    from panoptic_zoo.engine.launch import test as run
    return run(args)
