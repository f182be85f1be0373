"""Generate the built-in synthetic dataset in COCO panoptic format.

Example::

    python tools/make_dataset.py data/synthetic --num-train 300 --num-val 60
"""
import argparse

from panoptic_zoo.datasets.synthetic_cli import (add_make_data_args,
                                                 run_make_data)

if __name__ == '__main__':
    parser = argparse.ArgumentParser(
        description='Write a seeded synthetic COCO panoptic dataset '
        '(train2017/, val2017/, annotations/) into OUT_DIR.')
    add_make_data_args(parser)
    run_make_data(parser.parse_args())
