"""Test a panoptic model (MMDetection's tools/test.py interface).

Example::

    python tools/test.py configs/panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py \\
        work_dirs/panoptic-fpn_r18-tiny_fpn_2k_synthetic/iter_2000.pth
"""
from panoptic_zoo.engine.launch import run_tool

if __name__ == '__main__':
    run_tool('test')
