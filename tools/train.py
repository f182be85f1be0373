"""Train a panoptic model (MMDetection's tools/train.py interface).

Example::

    python tools/train.py configs/panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py
"""
from panoptic_zoo.engine.launch import run_tool

if __name__ == '__main__':
    run_tool('train')
