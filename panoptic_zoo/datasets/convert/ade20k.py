"""ADE20K scene parsing (``ADEChallengeData2016``) -> COCO panoptic, with
the rules of the ADE20K panoptic benchmark (MaskFormer / Mask2Former's
``prepare_ade20k_pan_seg.py``):

* ``annotations/<split>/*.png`` holds the SceneParse150 class + 1 (0 is
  "other", VOID), ``annotations_instance/<split>/*.png`` the Instance100
  class + 1 in R and the instance number in G (0: none);
* stuff segments come from the semantic map (one per stuff class present);
  thing classes there are not used: things come from the instance map only
  (a thing pixel without instance stays VOID) and are pasted over stuff;
* category ids are the 0-based class indices 0..149, 100 things and 50
  stuff; the image id is the file stem.

Segment ids are those of panopticapi's ``IdGenerator`` there (a stuff
segment and the first instance of a class take the class colour, further
instances a colour near it) except that the jitter is seeded by the image
name: conversions are reproducible.

Output: ``DST/ade20k_panoptic_<split>.json`` and its PNG folder, DST being
SRC by default (the layout detectron2 and ``check-data`` expect).
"""
import glob
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from PIL import Image

from .ade20k_classes import (ADE20K_CATEGORIES, INSTANCE_TO_SEMANTIC,
                             panoptic_categories)
from .writer import SegmentIds, SplitWriter, paint_labels

SPLIT_DIRS = {'train': 'training', 'val': 'validation'}
_COLORS = {i: c[2] for i, c in enumerate(ADE20K_CATEGORIES)}


def ade20k_segments(semantic: np.ndarray, instance: np.ndarray,
                    image_key: str):
    """Panoptic id map and segments of one image.

    Args:
        semantic (np.ndarray): ``(H, W)`` uint8 class + 1.
        instance (np.ndarray): ``(H, W, 3)`` uint8 (R: Instance100 class
            + 1, G: instance number).
        image_key (str): Seeds the segment ids.

    Returns:
        tuple: ``(ids, segments)``; stuff first (class order), then things
        (instance number order).
    """
    def stuff_of(value, mask):
        if value > len(ADE20K_CATEGORIES):
            raise ValueError(f'semantic value {value} is not a class '
                             '(0..150)')
        cat = value - 1
        return None if cat < 0 or ADE20K_CATEGORIES[cat][1] else cat

    def thing_of(number, mask):
        if number == 0:
            return None
        kinds = np.unique(instance[..., 0][mask]).tolist()
        if len(kinds) != 1 or kinds[0] not in INSTANCE_TO_SEMANTIC:
            raise ValueError(
                f'instance {number} has Instance100 class(es) {kinds} '
                '(R channel); expected one of 1..100')
        return INSTANCE_TO_SEMANTIC[kinds[0]] - 1

    ids = np.zeros(semantic.shape, dtype=np.int64)
    new_id = SegmentIds(_COLORS, image_key)
    segments = []
    # stuff first, then things pasted over it
    paint_labels(semantic, stuff_of, new_id, ids, segments)
    paint_labels(instance[..., 1], thing_of, new_id, ids, segments)
    return ids, segments


def convert_ade20k(src: str,
                   dst: Optional[str] = None,
                   splits: Sequence[str] = ('train', 'val'),
                   jobs: int = 1) -> dict:
    """Convert ``ADEChallengeData2016`` (``images/``, ``annotations/``,
    ``annotations_instance/``).

    Returns:
        dict: Split to ``(json path, PNG folder, number of images)``.
    """
    dst = dst or src
    out = {}
    for split in splits:
        folder = SPLIT_DIRS.get(split, split)
        img_dir = osp.join(src, 'images', folder)
        files = sorted(glob.glob(osp.join(img_dir, '*.jpg')))
        if not files:
            raise FileNotFoundError(
                f'no image in {img_dir}: give the ADEChallengeData2016 '
                'folder (ADEChallengeData2016.zip, plus annotations_instance/ '
                'from the instance-segmentation release)')
        writer = SplitWriter(dst, f'ade20k_panoptic_{split}',
                             panoptic_categories(), img_dir)
        try:
            for path in files:
                stem = osp.splitext(osp.basename(path))[0]
                arrays = []
                for kind in ('annotations', 'annotations_instance'):
                    png = osp.join(src, kind, folder, stem + '.png')
                    if not osp.isfile(png):
                        raise FileNotFoundError(
                            f'{path} has no {kind} PNG {png}')
                    with Image.open(png) as img:
                        arrays.append(np.asarray(
                            img.convert('RGB' if kind.endswith('instance')
                                        else 'L')))
                with Image.open(path) as img:
                    width, height = img.size
                if arrays[0].shape != (height, width) or \
                        arrays[1].shape[:2] != (height, width):
                    raise ValueError(
                        f'{stem}: image {height}x{width}, semantic '
                        f'{arrays[0].shape}, instance {arrays[1].shape[:2]}')
                try:
                    ids, segments = ade20k_segments(*arrays, stem)
                except ValueError as e:
                    raise ValueError(f'{stem}: {e}') from None
                writer.add(dict(id=stem, file_name=osp.basename(path),
                                height=height, width=width),
                           stem + '.png', ids, segments)
        except BaseException:
            writer.abort()
            raise
        ann_file, seg_dir = writer.finish(jobs)
        out[split] = (str(ann_file), str(seg_dir), len(files))
    return out
