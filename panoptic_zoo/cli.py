"""The ``panoptic-zoo`` command.

Each subcommand only parses arguments and calls the library; the table below
names, for each, the module holding its ``add_*_args(parser)`` and
``run(args)`` functions, imported only when that subcommand runs.
"""
import argparse
import importlib
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
    'train': ('train a model', 'panoptic_zoo.engine.launch',
              'add_train_args', 'train'),
    'test': ('evaluate a checkpoint', 'panoptic_zoo.engine.launch',
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
    'benchmark': ('measure the zoo against mmdet\'s Panoptic FPN: speed, '
                  'memory, FLOPs, MFU, PQ (one run, one device)',
                  'panoptic_zoo.benchmark.cli', 'add_benchmark_args',
                  'run_benchmark'),
}


def _function(module: str, name: str):
    return getattr(importlib.import_module(module), name)


def build_parser(argv: Optional[List[str]] = None) -> argparse.ArgumentParser:
    """The full parser; only the chosen subcommand's module is imported."""
    parser = argparse.ArgumentParser(
        prog='panoptic-zoo',
        description='Compose, train and evaluate panoptic segmentation '
        'models.')
    sub = parser.add_subparsers(dest='command', required=True)
    chosen = next((a for a in (argv or []) if a in SUBCOMMANDS), None)
    for name, (help_text, module, add_args, _) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text)
        if chosen in (None, name):
            _function(module, add_args)(sub_parser)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    _, module, _, run = SUBCOMMANDS[args.command]
    _function(module, run)(args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
