"""What each speed setting buys our Panoptic FPN against mmdet's, in one
run (``panoptic_zoo/benchmark/speed_ablation.py``).

Example (GPU)::

    python tools/speed_ablation.py --out-dir work_dirs/speed_ablation
"""
import argparse
import os

import torch

from panoptic_zoo.benchmark import speed_ablation
from panoptic_zoo.benchmark.inputs import parse_input


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cuda = torch.cuda.is_available()
    parser.add_argument('--device', default='cuda' if cuda else 'cpu')
    parser.add_argument('--input', default='2x800x1216' if cuda else
                        '1x256x384', help='BxHxW of the training batch')
    parser.add_argument('--instances', type=int, default=15 if cuda else 5)
    parser.add_argument('--infer-batch', type=int, default=8 if cuda else 2)
    parser.add_argument('--steps', type=int, default=10 if cuda else 3)
    parser.add_argument('--warmup', type=int, default=3 if cuda else 1)
    parser.add_argument('--only', nargs='+', metavar='VARIANT',
                        choices=[v.name for v in speed_ablation.VARIANTS],
                        help='measure only these rows')
    parser.add_argument('--out-dir', default='work_dirs/speed_ablation')
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)

    def progress(result):  # a long GPU run keeps what it has measured
        row = result['rows'][-1]
        print(f"[{len(result['rows'])}] {row['name']}: "
              f"{row['measure_s']:.0f} s", flush=True)
        speed_ablation.save(result, args.out_dir)

    result = speed_ablation.run(args.device, parse_input(args.input),
                                args.instances, args.infer_batch, args.steps,
                                args.warmup, args.only, on_row=progress)
    print(speed_ablation.markdown(result))
    print('wrote', speed_ablation.save(result, args.out_dir))


if __name__ == '__main__':
    main()
