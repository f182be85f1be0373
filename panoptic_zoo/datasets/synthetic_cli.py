"""Arguments and entry point of ``panoptic-zoo make-data`` (also
``tools/make_dataset.py``)."""
import argparse

from .synthetic import make_synthetic_dataset


def add_make_data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('out_dir', metavar='OUT_DIR', help='dataset root')
    parser.add_argument(
        '--num-train', type=int, default=300, help='number of train images')
    parser.add_argument(
        '--num-val', type=int, default=60, help='number of val images')
    parser.add_argument(
        '--size',
        type=int,
        default=320,
        help='side of the square images in pixels')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--layout',
        choices=('coco', 'cityscapes', 'ade20k'),
        default='coco',
        help='coco: the COCO panoptic dataset; cityscapes / ade20k: the '
        'same images in that dataset\'s download layout, for '
        '`panoptic-zoo convert`')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace train2017/, val2017/ and annotations/ in a non-empty '
        'OUT_DIR (other files there are kept)')


def run_make_data(args: argparse.Namespace) -> dict:
    """Write the dataset and print a one-line summary."""
    if args.layout != 'coco':
        from .synthetic_sources import make_source
        expected = make_source(args.layout, args.out_dir,
                               num_train=args.num_train,
                               num_val=args.num_val, size=args.size,
                               seed=args.seed)
        print(f'Wrote synthetic {args.layout} source layout to '
              f'{args.out_dir} (train: {len(expected["train"])}, val: '
              f'{len(expected["val"])} images); next: panoptic-zoo convert '
              f'{args.layout} {args.out_dir}')
        return expected
    summary = make_synthetic_dataset(
        args.out_dir,
        num_train=args.num_train,
        num_val=args.num_val,
        size=args.size,
        seed=args.seed,
        overwrite=args.overwrite)
    counts = ', '.join(
        f'{split}: {s["num_images"]} images / {s["num_segments"]} segments'
        for split, s in summary.items())
    print(f'Wrote synthetic COCO panoptic dataset to {args.out_dir} '
          f'({counts})')
    return summary
