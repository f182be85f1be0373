"""Run a trained model on images, folders, globs or videos.

Same as ``panoptic-zoo infer``; see ``python tools/infer.py --help``.
"""
import sys

from panoptic_zoo.cli import main

if __name__ == '__main__':
    sys.exit(main(['infer'] + sys.argv[1:]))
