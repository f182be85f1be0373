"""The ``panoptic-zoo`` command.

Subcommands: ``make-data`` (write the built-in dataset), ``train``, ``test``.
Each only parses arguments and calls the library.
"""
import argparse
import sys
from typing import List, Optional


def build_parser() -> argparse.ArgumentParser:
    from panoptic_zoo.datasets.synthetic_cli import add_make_data_args
    from panoptic_zoo.engine.launch import add_test_args, add_train_args
    parser = argparse.ArgumentParser(
        prog='panoptic-zoo',
        description='Compose, train and evaluate panoptic segmentation '
        'models.')
    sub = parser.add_subparsers(dest='command', required=True)
    add_make_data_args(
        sub.add_parser('make-data', help='write the built-in dataset'))
    add_train_args(sub.add_parser('train', help='train a model'))
    add_test_args(sub.add_parser('test', help='evaluate a checkpoint'))
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == 'make-data':
        from panoptic_zoo.datasets.synthetic_cli import run_make_data
        run_make_data(args)
    else:
        from panoptic_zoo.engine import launch
        getattr(launch, args.command)(args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
