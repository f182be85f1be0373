"""Where a dataset root keeps each split's JSON, PNG folder and images.

Three layouts are found without options (``ROOT`` as users download or
convert it), any other through explicit paths:

* COCO: ``annotations/panoptic_<split>2017.json`` and PNG folder of that
  name, images in ``<split>2017/``;
* Cityscapes: ``gtFine/cityscapes_panoptic_<split>.json`` and folder,
  images in ``leftImg8bit/<split>/<city>/``;
* ADE20K: ``ade20k_panoptic_<split>.json`` and folder, images in
  ``images/training/`` or ``images/validation/``.
"""
import glob
import os.path as osp
import re
from dataclasses import dataclass
from typing import List, Optional

# JSON stem -> split name: panoptic_train2017, cityscapes_panoptic_val, ...
_SPLIT = re.compile(r'^(?:\w+_)?panoptic_([a-z]+?)(?:2017)?$')
_ADE_IMAGES = {'train': 'training', 'val': 'validation'}


@dataclass
class SplitFiles:
    """The three places of one split."""
    split: str
    ann_file: str
    seg_dir: str
    img_dir: str


def _image_dir(root: str, split: str) -> str:
    candidates = [
        osp.join(root, f'{split}2017'),
        osp.join(root, 'leftImg8bit', split),
        osp.join(root, 'images', _ADE_IMAGES.get(split, split)),
        osp.join(root, split),
    ]
    return next((c for c in candidates if osp.isdir(c)), candidates[0])


def find_splits(root: str, split: Optional[str] = None) -> List[SplitFiles]:
    """The panoptic splits under ``root`` (all, or the one named).

    Raises:
        FileNotFoundError: None found; the message lists where it looked.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'dataset root {root} is not a directory')
    found = []
    for folder in ('annotations', 'gtFine', '.'):
        for ann_file in sorted(glob.glob(osp.join(root, folder, '*.json'))):
            stem = osp.splitext(osp.basename(ann_file))[0]
            match = _SPLIT.match(stem)
            if match is None or not osp.isdir(ann_file[:-len('.json')]):
                continue
            if split is None or match.group(1) == split:
                found.append(
                    SplitFiles(match.group(1), osp.normpath(ann_file),
                               osp.normpath(ann_file[:-len('.json')]),
                               osp.normpath(_image_dir(root,
                                                       match.group(1)))))
    if not found:
        which = f'split {split!r}' if split else 'any split'
        raise FileNotFoundError(
            f'no COCO panoptic JSON for {which} under {root}: looked for '
            'annotations/panoptic_<split>2017.json (COCO), '
            'gtFine/cityscapes_panoptic_<split>.json (Cityscapes), '
            'ade20k_panoptic_<split>.json (ADE20K), each next to a folder '
            'of PNGs of the same name; give --ann-file, --seg-dir and '
            '--img-dir for another layout')
    return found
