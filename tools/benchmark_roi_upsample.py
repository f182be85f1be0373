"""Benchmark RoIUpsample (exact and normalised) against mmcv's roi_align
forward and backward on the same RoIs; prints times and ratios.

Example::

    python tools/benchmark_roi_upsample.py             # 512 RoIs, 28x28
    python tools/benchmark_roi_upsample.py --channels 1 256 --device cuda
"""
import argparse

import torch

from panoptic_zoo.benchmark.roi_upsample import (benchmark_roi_upsample,
                                                     format_results)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--num-rois', type=int, default=512)
    parser.add_argument('--roi-size', type=int, default=28)
    parser.add_argument('--height', type=int, default=200)
    parser.add_argument('--width', type=int, default=304)
    parser.add_argument('--num-imgs', type=int, default=2)
    parser.add_argument(
        '--channels',
        type=int,
        nargs='+',
        default=[1, 256],
        help='one run per value (masks have 1)')
    parser.add_argument('--stride', type=int, default=4)
    parser.add_argument(
        '--device', default='auto', help="'cpu', 'cuda' or 'auto'")
    parser.add_argument('--iters', type=int, default=30)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    device = args.device
    if device == 'auto':
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    settings, results = [], []
    for channels in args.channels:
        settings.append(
            f'{device}: {args.num_rois} RoIs {args.roi_size}x{args.roi_size}'
            f' -> {args.num_imgs}x{channels}x{args.height}x{args.width}')
        results.append(
            benchmark_roi_upsample(
                num_rois=args.num_rois,
                roi_size=args.roi_size,
                map_size=(args.height, args.width),
                num_imgs=args.num_imgs,
                channels=channels,
                stride=args.stride,
                device=device,
                iters=args.iters,
                seed=args.seed))
    print(format_results(results, settings))


if __name__ == '__main__':
    main()
