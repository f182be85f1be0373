"""``panoptic-zoo convert {cityscapes,ade20k,coco-instances,two-channel}
SRC [DST]``."""
import argparse

from panoptic_zoo.datasets.check.runner import default_jobs

FORMATS = ('cityscapes', 'ade20k', 'coco-instances', 'two-channel')


def add_convert_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('format', choices=FORMATS, help='source format')
    parser.add_argument(
        'src', metavar='SRC',
        help='cityscapes: the folder with gtFine/ and leftImg8bit/; '
        'ade20k: ADEChallengeData2016/; coco-instances: the instances JSON; '
        'two-channel: the folder of category+instance PNGs')
    parser.add_argument(
        'dst', metavar='DST', nargs='?',
        help='output folder (default: SRC/gtFine for cityscapes, SRC for '
        'ade20k; required for coco-instances and two-channel)')
    parser.add_argument('--splits', nargs='+', default=['train', 'val'],
                        help='cityscapes / ade20k splits')
    parser.add_argument('--use-train-id', action='store_true',
                        help='cityscapes: train ids as category ids')
    parser.add_argument('--img-dir',
                        help='coco-instances / two-channel: the images')
    parser.add_argument(
        '--images-json',
        help='two-channel: JSON with the images and categories')
    parser.add_argument('--semantic-dir',
                        help='coco-instances: stuff PNGs (category ids)')
    parser.add_argument(
        '--on-overlap', default='fail',
        choices=('fail', 'continue', 'overwrite', 'smaller-on-top'),
        help='coco-instances: who gets pixels two instances share')
    parser.add_argument('--jobs', type=int, default=default_jobs(),
                        help='processes for the final check-data')


def run_convert(args: argparse.Namespace) -> dict:
    """Convert, check the output, print where it went."""
    if args.format == 'cityscapes':
        from .cityscapes import convert_cityscapes
        out = convert_cityscapes(args.src, args.dst, args.splits,
                                 args.use_train_id, args.jobs)
    elif args.format == 'ade20k':
        from .ade20k import convert_ade20k
        out = convert_ade20k(args.src, args.dst, args.splits, args.jobs)
    elif args.format == 'two-channel':
        from .two_channel import convert_two_channel
        if not args.dst or not args.img_dir or not args.images_json:
            raise SystemExit('convert two-channel needs DST, --img-dir and '
                             '--images-json')
        res = convert_two_channel(args.src, args.images_json, args.dst,
                                  args.img_dir, jobs=args.jobs)
        out = {'': (res['ann_file'], res['seg_dir'], res['num_images'])}
    else:
        from .instances import convert_instances
        if not args.dst or not args.img_dir:
            raise SystemExit('convert coco-instances needs DST and '
                             '--img-dir')
        res = convert_instances(args.src, args.dst, args.img_dir,
                                args.semantic_dir, args.on_overlap,
                                jobs=args.jobs)
        out = {'': (res['ann_file'], res['seg_dir'], res['num_images'])}
        if res['num_dropped']:
            print(f'{res["num_dropped"]} instances lost all their pixels '
                  f'to others ({args.on_overlap}) and were dropped')
    for split, (ann_file, seg_dir, num) in out.items():
        print(f'{split or "converted"}: {num} images -> {ann_file} + '
              f'{seg_dir}/ (check-data: no error)')
    return out
