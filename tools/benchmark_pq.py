"""Benchmark PQ evaluation: ours (CPU, GPU; in memory, from files) against
panopticapi's ``pq_compute`` and hotcoco, asserting equal numbers.

Example::

    python tools/benchmark_pq.py --num-images 500
    python tools/benchmark_pq.py --device cuda
"""
import argparse

from panoptic_zoo.benchmark.pq import run_benchmark


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--num-images', type=int, default=5000)
    parser.add_argument(
        '--unique-images',
        type=int,
        default=300,
        help='distinct generated pairs the images cycle through')
    parser.add_argument(
        '--reference-images',
        type=int,
        default=200,
        help='images given to panopticapi (it is slow)')
    parser.add_argument('--height', type=int, default=480)
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument(
        '--device', default='auto', help="'cpu', 'cuda' or 'auto'")
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    run_benchmark(
        num_images=args.num_images,
        unique_images=args.unique_images,
        height=args.height,
        width=args.width,
        reference_images=args.reference_images,
        device=args.device,
        batch_size=args.batch_size,
        seed=args.seed)


if __name__ == '__main__':
    main()
