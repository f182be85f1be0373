"""``panoptic-zoo check-data ROOT [--split S] [--jobs N] [--json OUT]``."""
import argparse
import sys
import time

from .layout import SplitFiles, find_splits
from .problems import dump_json
from .runner import check_split, default_jobs


def add_check_data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        'root', metavar='ROOT', nargs='?',
        help='dataset root in the COCO, Cityscapes (after `convert`) or '
        'ADE20K panoptic layout')
    parser.add_argument('--split', help='only this split (e.g. val)')
    parser.add_argument(
        '--jobs', type=int, default=default_jobs(),
        help='processes decoding images and PNGs (default: all CPUs)')
    parser.add_argument('--json', metavar='OUT',
                        help='also write the report as JSON')
    parser.add_argument(
        '--annotations-only', action='store_true',
        help='check the JSON only, as train/test do before starting')
    parser.add_argument('--max-examples', type=int, default=5,
                        help='examples printed per kind of problem')
    parser.add_argument('--ann-file', help='panoptic JSON (other layouts)')
    parser.add_argument('--seg-dir', help='its PNG folder')
    parser.add_argument('--img-dir', help='its image folder')


def _splits(args) -> list:
    if args.ann_file:
        if not args.annotations_only and not (args.seg_dir and
                                              args.img_dir):
            raise SystemExit('check-data: --ann-file needs --seg-dir and '
                             '--img-dir (or --annotations-only)')
        return [SplitFiles(args.split or args.ann_file, args.ann_file,
                           args.seg_dir, args.img_dir)]
    if not args.root:
        raise SystemExit('check-data: give ROOT or --ann-file')
    try:
        return find_splits(args.root, args.split)
    except FileNotFoundError as e:
        raise SystemExit(f'check-data: {e}') from None


def run_check_data(args: argparse.Namespace) -> list:
    """Check every split, print the reports; exit 1 on any error."""
    reports = []
    for files in _splits(args):
        start = time.perf_counter()
        report = check_split(
            files.ann_file, files.seg_dir, files.img_dir,
            name=f'{files.split} ({files.ann_file})',
            pixels=not args.annotations_only, jobs=args.jobs,
            max_examples=args.max_examples)
        print(report.text())
        print(f'  ({time.perf_counter() - start:.1f} s, {args.jobs} jobs)')
        reports.append(report)
    if args.json:
        dump_json(reports, args.json)
    if not all(r.ok for r in reports):
        sys.exit(1)
    return reports
