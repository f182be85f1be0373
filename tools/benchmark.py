"""Benchmark the zoo against MMDetection's Panoptic FPN (speed, memory,
FLOPs, MFU, PQ) in one run; same arguments as ``panoptic-zoo benchmark``.

Example::

    python tools/benchmark.py                       # the whole zoo, defaults
    python tools/benchmark.py --device cpu --input 1x256x384 --skip-accuracy
"""
import argparse

from panoptic_zoo.benchmark.cli import add_benchmark_args, run_benchmark

if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    add_benchmark_args(parser)
    run_benchmark(parser.parse_args())
