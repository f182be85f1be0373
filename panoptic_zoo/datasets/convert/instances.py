"""A user's own labels -> COCO panoptic: a COCO *instances* JSON (polygons
or RLE, as labelling tools export) for the things, and optionally one
semantic PNG per image for the stuff.

Instance masks of one image may overlap; ``on_overlap`` decides:

``fail``            stop, naming the image, both annotation ids and the
                    number of shared pixels (the default: nothing is
                    decided silently);
``continue``        the earlier annotation (JSON order) keeps the shared
                    pixels, the later one gets the rest;
``overwrite``       the later annotation takes the shared pixels;
``smaller-on-top``  the smaller instance takes them (areas of the full
                    masks), the usual choice for occlusions.

An instance left without a pixel is dropped and counted. Things are painted
over stuff. The semantic PNG holds category ids (8 or 16 bit); 0 and ids of
thing categories are VOID there, so the things come from the instances
only. Categories come from the instances JSON; those marked ``isthing: 0``
are stuff, the rest things.
"""
import os.path as osp
from collections import Counter
from typing import Optional

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from panoptic_zoo.datasets.check.pixels import resolve_image
from .writer import SegmentIds, SplitWriter, paint_labels

POLICIES = ('fail', 'continue', 'overwrite', 'smaller-on-top')


class OverlapError(ValueError):
    """Two instance masks share pixels under ``on_overlap='fail'``."""


def decode_segmentation(segm, height: int, width: int) -> np.ndarray:
    """A COCO ``segmentation`` (polygons, RLE or uncompressed RLE) as a
    ``(H, W)`` bool mask."""
    if isinstance(segm, list):  # polygons
        rle = mask_utils.merge(mask_utils.frPyObjects(segm, height, width))
    elif isinstance(segm.get('counts'), list):  # uncompressed RLE
        rle = mask_utils.frPyObjects(segm, height, width)
    else:
        rle = segm
    return mask_utils.decode(rle).astype(bool)


def paint_instances(anns, height, width, policy, image_id):
    """Paint instance masks into one map of annotation indices (-1: none).

    Returns:
        tuple: ``(index map, number of instances left without a pixel)``.
    """
    if policy not in POLICIES:
        raise ValueError(f'on_overlap must be one of {POLICIES}, got '
                         f'{policy!r}')
    masks = [decode_segmentation(a['segmentation'], height, width)
             for a in anns]
    order = list(range(len(anns)))
    if policy == 'smaller-on-top':  # largest first; stable for ties
        order.sort(key=lambda i: -int(masks[i].sum()))
    index = np.full((height, width), -1, dtype=np.int64)
    for i in order:
        mask = masks[i]
        taken = mask & (index >= 0)
        if taken.any():
            if policy == 'fail':
                other = Counter(index[taken].tolist()).most_common(1)[0][0]
                raise OverlapError(
                    f'image {image_id!r}: annotations {anns[other]["id"]} '
                    f'and {anns[i]["id"]} share {int(taken.sum())} pixels; '
                    'choose --on-overlap continue, overwrite or '
                    'smaller-on-top')
            if policy == 'continue':
                mask = mask & (index < 0)
        index[mask] = i
    painted = set(np.unique(index).tolist())
    return index, sum(1 for i in range(len(anns)) if i not in painted)


def convert_instances(ann_file: str,
                      dst: str,
                      img_dir: str,
                      semantic_dir: Optional[str] = None,
                      on_overlap: str = 'fail',
                      name: Optional[str] = None,
                      jobs: int = 1) -> dict:
    """Convert one split.

    Args:
        ann_file (str): COCO instances JSON.
        dst (str): Output folder of ``<name>.json`` and ``<name>/``.
        img_dir (str): The images (for the final check).
        semantic_dir (str, optional): ``<image stem>.png`` stuff maps.
        on_overlap (str): One of :data:`POLICIES`.
        name (str, optional): Default: ``panoptic_<split>`` from
            ``instances_<split>.json``.

    Returns:
        dict: ``ann_file``, ``seg_dir``, ``num_images``, ``num_dropped``.
    """
    from panoptic_zoo.datasets.check.runner import load_json
    data, problem = load_json(ann_file)
    if problem is not None:
        raise ValueError(problem.line())
    stem = osp.splitext(osp.basename(ann_file))[0]
    name = name or 'panoptic_' + stem.replace('instances_', '')
    categories = [dict(c, isthing=int(c.get('isthing', 1)))
                  for c in data['categories']]
    is_thing = {c['id']: c['isthing'] for c in categories}
    colors = {c['id']: c.get('color') or _color(c['id'])
              for c in categories}
    by_image = {}
    for ann in data['annotations']:
        if not is_thing.get(ann['category_id'], 0):
            raise ValueError(
                f'{ann_file}: annotation {ann["id"]} has category '
                f'{ann["category_id"]}, not a thing category')
        by_image.setdefault(ann['image_id'], []).append(ann)
    writer = SplitWriter(dst, name, categories, img_dir)
    dropped = 0
    try:
        for image in data['images']:
            height, width = image['height'], image['width']
            ids = np.zeros((height, width), dtype=np.int64)
            new_id = SegmentIds(colors, str(image['id']))
            segments = []
            if semantic_dir:
                ids, segments = _stuff(semantic_dir, image, is_thing,
                                       new_id)
            anns = by_image.get(image['id'], [])
            index, lost = paint_instances(anns, height, width, on_overlap,
                                          image['id'])
            dropped += lost
            for i, ann in enumerate(anns):
                mask = index == i
                if mask.any():
                    seg_id = new_id.new(ann['category_id'])
                    ids[mask] = seg_id
                    segments.append(dict(id=seg_id,
                                         category_id=ann['category_id'],
                                         iscrowd=ann.get('iscrowd', 0)))
            png = osp.splitext(image['file_name'])[0] + '.png'
            writer.add(dict(id=image['id'], file_name=image['file_name'],
                            height=height, width=width), png, ids, segments)
    except BaseException:
        writer.abort()
        raise
    out_json, seg_dir = writer.finish(jobs)
    return dict(ann_file=str(out_json), seg_dir=str(seg_dir),
                num_images=len(data['images']), num_dropped=dropped)


def _color(cat_id: int) -> list:
    rng = np.random.default_rng(cat_id)
    return rng.integers(0, 256, 3).tolist()


def _stuff(semantic_dir, image, is_thing, new_id):
    """Stuff segments of one semantic PNG."""
    stem = osp.splitext(image['file_name'])[0]
    path = osp.join(semantic_dir, stem + '.png')
    if not osp.isfile(path):
        path = resolve_image(semantic_dir, stem + '.png')
    if not osp.isfile(path):
        raise FileNotFoundError(f'image {image["id"]!r}: no semantic PNG '
                                f'{path}')
    with Image.open(path) as img:
        sem = np.asarray(img, dtype=np.int64)
    if sem.shape != (image['height'], image['width']):
        raise ValueError(f'{path} is {sem.shape}, image {image["id"]!r} is '
                         f'{image["height"]}x{image["width"]}')
    def category_of(cat, mask):
        if cat != 0 and cat not in is_thing:
            raise ValueError(f'{path}: value {cat} is not a category id of '
                             'the instances JSON')
        return None if cat == 0 or is_thing[cat] else cat

    ids = np.zeros(sem.shape, dtype=np.int64)
    segments = []
    paint_labels(sem, category_of, new_id, ids, segments)
    return ids, segments
