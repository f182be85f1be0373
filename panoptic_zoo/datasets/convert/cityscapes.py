"""Cityscapes ``gtFine/*_instanceIds.png`` -> COCO panoptic, with the rules
of cityscapesScripts' ``createPanopticImgs``:

* a pixel value ``v >= 1000`` is instance ``v % 1000`` of label
  ``v // 1000``; a smaller value is a label id alone: for a label with
  instances it is a crowd region (``iscrowd=1``), else the stuff segment;
* the segment id is ``v`` itself, the category id the label id (or the
  train id with ``use_train_id``);
* labels ignored in evaluation (void, parking, caravan, ...) become VOID;
* the image id is ``<city>_<seq>_<frame>``, the image file name the bare
  ``*_leftImg8bit.png`` name, the PNG ``*_gtFine_panoptic.png``.

Checked against the official script on the same tree: annotations,
categories and PNGs are identical; only the image file names differ, the
official ones being ``*_gtFine_leftImg8bit.png`` (a file that does not
exist; :func:`~panoptic_zoo.datasets.check.resolve_image` reads both).

Output: ``DST/cityscapes_panoptic_<split>[_trainId].json`` and the PNG
folder of the same name, DST being ``SRC/gtFine`` by default (the layout
detectron2 and ``check-data`` expect).
"""
import glob
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from PIL import Image

from .cityscapes_labels import ID_TO_LABEL, panoptic_categories
from .writer import SplitWriter, bare_stem

SUFFIX = '_gtFine_instanceIds.png'


def cityscapes_segments(instance_ids: np.ndarray, use_train_id=False):
    """The panoptic id map and segments of one ``instanceIds`` map.

    Returns:
        tuple: ``(ids, segments)``: ``(H, W)`` int64 map (0 = VOID) and
        ``dict(id, category_id, iscrowd)`` in increasing id order.
    """
    values = np.asarray(instance_ids, dtype=np.int64)
    ids = np.zeros(values.shape, dtype=np.int64)
    segments = []
    for value in np.unique(values):
        label_id = value if value < 1000 else value // 1000
        label = ID_TO_LABEL.get(int(label_id))
        if label is None:
            raise ValueError(f'pixel value {value}: label id {label_id} is '
                             'not a Cityscapes label')
        if label.ignore_in_eval:
            continue
        ids[values == value] = value
        segments.append(dict(
            id=int(value),
            category_id=label.train_id if use_train_id else label.id,
            iscrowd=int(value < 1000 and label.has_instances)))
    return ids, segments


def convert_cityscapes(src: str,
                       dst: Optional[str] = None,
                       splits: Sequence[str] = ('train', 'val'),
                       use_train_id: bool = False,
                       jobs: int = 1) -> dict:
    """Convert a Cityscapes download (``leftImg8bit/``, ``gtFine/``).

    Returns:
        dict: Split to ``(json path, PNG folder, number of images)``.

    Raises:
        FileNotFoundError: A split has no ``*_instanceIds.png``.
    """
    dst = dst or osp.join(src, 'gtFine')
    categories = panoptic_categories(use_train_id)
    out = {}
    for split in splits:
        pattern = osp.join(src, 'gtFine', split, '*', '*' + SUFFIX)
        files = sorted(glob.glob(pattern))
        if not files:
            raise FileNotFoundError(
                f'no Cityscapes annotation matches {pattern}: give the '
                'folder holding gtFine/ and leftImg8bit/ (unzip '
                'gtFine_trainvaltest.zip and leftImg8bit_trainvaltest.zip '
                'there)')
        name = f'cityscapes_panoptic_{split}' + ('_trainId'
                                                  if use_train_id else '')
        writer = SplitWriter(dst, name, categories,
                             osp.join(src, 'leftImg8bit', split))
        try:
            for path in files:
                stem = bare_stem(path, SUFFIX)
                with Image.open(path) as img:
                    raw = np.asarray(img)
                try:
                    ids, segments = cityscapes_segments(raw, use_train_id)
                except ValueError as e:
                    raise ValueError(f'{path}: {e}') from None
                image = dict(id=stem, file_name=stem + '_leftImg8bit.png',
                             height=int(raw.shape[0]),
                             width=int(raw.shape[1]))
                writer.add(image, stem + '_gtFine_panoptic.png', ids,
                           segments)
        except BaseException:
            writer.abort()
            raise
        ann_file, seg_dir = writer.finish(jobs, sort_keys=True, indent=4)
        out[split] = (str(ann_file), str(seg_dir), len(files))
    return out
