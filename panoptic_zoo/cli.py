"""The ``panoptic-zoo`` command.

Each subcommand only parses arguments and calls the library; the table below
names, for each, the module holding its ``add_*_args(parser)`` and
``run(args)`` functions, imported only when that subcommand runs.
"""
import argparse
import importlib
import os
import sys
from typing import List, Optional

# name: (help, module, function adding arguments, function running it)
SUBCOMMANDS = {
    'make-data': ('write the built-in dataset (COCO panoptic layout)',
                  'panoptic_zoo.datasets.synthetic_cli', 'add_make_data_args',
                  'run_make_data'),
    'check-data': ('validate a COCO panoptic dataset: JSON, images, PNGs '
                   '(exit 1 on errors)', 'panoptic_zoo.datasets.check.cli',
                   'add_check_data_args', 'run_check_data'),
    'convert': ('convert Cityscapes, ADE20K, COCO instances (+ semantic '
                'PNGs) or two-channel PNGs to COCO panoptic',
                'panoptic_zoo.datasets.convert.cli', 'add_convert_args',
                'run_convert'),
    'train': ('train a model', 'panoptic_zoo.run_args', 'add_train_args',
              'train'),
    'test': ('evaluate a checkpoint', 'panoptic_zoo.run_args',
             'add_test_args', 'test'),
    'list': ('list registered components: ours, mmdet\'s, plugins\'',
             'panoptic_zoo.components', 'add_list_args', 'run_list'),
    'info': ('constructor arguments and defaults of a component',
             'panoptic_zoo.components', 'add_info_args', 'run_info'),
    'new-plugin': ('write a new plugin package (entry point, component, '
                   'test, config)', 'panoptic_zoo.scaffold',
                   'add_new_plugin_args', 'run_new_plugin'),
    'compose': ('write a config from a zoo model with other parts in its '
                'slots (checked by building it)', 'panoptic_zoo.compose',
                'add_compose_args', 'run_compose'),
    'eval-pq': ('PQ of panoptic PNG+JSON files (panopticapi-exact)',
                'panoptic_zoo.evaluation.pq_files', 'add_eval_pq_args',
                'run_eval_pq'),
    'infer': ('run a trained model on images, folders, globs or videos: '
              'COCO panoptic predictions + overlays',
              'panoptic_zoo.apis.infer_cli', 'add_infer_args', 'run_infer'),
    'show-data': ('contact sheet of a dataset\'s ground truth with a legend',
                  'panoptic_zoo.visualization.show_data',
                  'add_show_data_args', 'run_show_data'),
    'plot-logs': ('plot losses and PQ of training runs to a PNG',
                  'panoptic_zoo.visualization.plot_logs',
                  'add_plot_logs_args', 'run_plot_logs'),
    'benchmark': ('measure the zoo against mmdet\'s Panoptic FPN: speed, '
                  'memory, FLOPs, MFU, PQ (one run, one device)',
                  'panoptic_zoo.benchmark.cli', 'add_benchmark_args',
                  'run_benchmark'),
}


def _function(module: str, name: str):
    return getattr(importlib.import_module(module), name)


def build_parser(argv: Optional[List[str]] = None) -> argparse.ArgumentParser:
    """The parser for ``argv``: only the chosen subcommand's module is
    imported (none for ``--help`` / ``--version``); every one when
    ``argv`` is None."""
    from panoptic_zoo import __version__
    parser = argparse.ArgumentParser(
        prog='panoptic-zoo',
        description='Compose, train and evaluate panoptic segmentation '
        'models.')
    parser.add_argument(
        '--version', action='version', version=f'panoptic-zoo {__version__}')
    sub = parser.add_subparsers(dest='command', required=True)
    chosen = next((a for a in (argv or []) if a in SUBCOMMANDS), None)
    for name, (help_text, module, add_args, _) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text)
        if argv is None or chosen == name:
            _function(module, add_args)(sub_parser)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run a subcommand. A user error (missing file, bad value, unknown
    name) ends with one line ``panoptic-zoo CMD: error: ...`` and status
    1; ``PANOPTIC_ZOO_DEBUG=1`` shows the traceback instead."""
    from panoptic_zoo.quiet import quiet_library_warnings
    quiet_library_warnings()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    _, module, _, run = SUBCOMMANDS[args.command]
    try:
        _function(module, run)(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
    except BrokenPipeError:  # `panoptic-zoo info FPN | head`
        _quiet_broken_pipe()
    except (OSError, ValueError, KeyError) as e:
        if os.environ.get('PANOPTIC_ZOO_DEBUG'):
            raise
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        sys.exit(f'panoptic-zoo {args.command}: error: {message}')
    return 0


def _quiet_broken_pipe() -> None:
    """The reader of our output went away: stop without a traceback
    (Python's advice: point stdout at devnull so the flush at exit does
    not fail again)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)


if __name__ == '__main__':
    sys.exit(main())
