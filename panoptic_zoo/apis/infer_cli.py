"""``panoptic-zoo infer CONFIG CHECKPOINT INPUTS... --out DIR``."""
import argparse
import sys


def add_infer_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('config', help='config file of the model')
    parser.add_argument(
        'checkpoint', help='checkpoint file or http(s) URL (downloaded '
        'once to the torch hub cache)')
    parser.add_argument(
        'inputs',
        nargs='+',
        help='image files, folders, glob patterns (quote them) or video '
        'files')
    parser.add_argument(
        '--out', required=True, help='output folder: panoptic/*.png + '
        'panoptic.json (COCO panoptic) and overlays/')
    parser.add_argument(
        '--device', help="'cpu', 'cuda' or 'cuda:N' (default: a GPU if "
        'there is one)')
    parser.add_argument(
        '--batch-size', type=int, default=1, help='images per forward '
        'pass (default: 1)')
    parser.add_argument(
        '--categories', help='COCO panoptic JSON whose category ids to '
        'write (default: the config\'s test annotations if present, else '
        '1..N in class order)')
    parser.add_argument(
        '--no-overlay', action='store_true', help='write the predictions '
        'only')
    parser.add_argument(
        '--quiet', action='store_true', help='no progress bar')


def run_infer(args: argparse.Namespace) -> dict:
    """Run ``infer``; exit status 1 if any input was skipped."""
    from .inference import PanopticInferencer, run_inference
    if args.batch_size < 1:
        raise ValueError(f'--batch-size must be >= 1, got {args.batch_size}')
    inferencer = PanopticInferencer(
        args.config,
        args.checkpoint,
        device=args.device,
        categories=args.categories)

    def log(message):
        print(message, file=sys.stderr, flush=True)

    summary = run_inference(
        inferencer,
        args.inputs,
        args.out,
        batch_size=args.batch_size,
        overlays=not args.no_overlay,
        progress=not args.quiet,
        log=log)
    done, skipped = summary['done'], summary['skipped']
    print(f'{len(done)} pictures predicted on {inferencer.device}; '
          f'predictions in {args.out}/panoptic.json and '
          f'{args.out}/panoptic/' +
          ('' if args.no_overlay else f', overlays in {args.out}/overlays/'))
    if skipped:
        sys.exit(f'panoptic-zoo infer: {len(skipped)} input(s) skipped '
                 '(listed above)')
    return summary
