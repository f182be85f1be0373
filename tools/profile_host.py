"""cProfile a config's training step and prediction: which Python code
holds the host (``panoptic_zoo/benchmark/host_profile.py``).

Example (GPU)::

    python tools/profile_host.py \
        configs/panoptic_fpn/panoptic-fpn_r50_fpn_fast-1x_coco.py --amp
"""
import argparse
import os
import os.path as osp

import torch

from panoptic_zoo.benchmark.host_profile import profile_config
from panoptic_zoo.benchmark.inputs import parse_input
from panoptic_zoo.benchmark.zoo import resolve_config


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cuda = torch.cuda.is_available()
    parser.add_argument('config', help='config file (or path under configs/)')
    parser.add_argument('--device', default='cuda' if cuda else 'cpu')
    parser.add_argument('--input', default='2x800x1216' if cuda else
                        '1x256x384', help='BxHxW of the batch')
    parser.add_argument('--instances', type=int, default=15 if cuda else 5)
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision (CUDA only)')
    parser.add_argument('--calls', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=5 if cuda else 1)
    parser.add_argument('--top', type=int, default=40,
                        help='functions listed per table')
    parser.add_argument('--out-dir', default='work_dirs/profile_host')
    args = parser.parse_args()
    if args.amp and args.device != 'cuda':
        parser.error('--amp: mixed precision is measured on CUDA only')
    config = resolve_config(args.config, 'config')
    results = profile_config(config, args.device,
                             parse_input(args.input), args.instances,
                             'amp' if args.amp else 'fp32', args.calls,
                             args.warmup, args.top)
    os.makedirs(args.out_dir, exist_ok=True)
    for name, result in results.items():
        path = osp.join(args.out_dir, f'{name}.txt')
        with open(path, 'w') as f:
            f.write(result['cumulative'] + result['tottime'])
        print(f"{name}: {result['s_per_call']:.4f} s per call under "
              f'cProfile; profile in {path}')


if __name__ == '__main__':
    main()
