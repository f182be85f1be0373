"""Seeded generator of a small synthetic dataset in COCO panoptic format.

The files written are laid out exactly like COCO 2017, so mmdet's
``CocoPanopticDataset`` and panopticapi read them unchanged::

    OUT/train2017/000000000001.jpg
    OUT/val2017/000001000001.jpg
    OUT/annotations/panoptic_{train,val}2017.json
    OUT/annotations/panoptic_{train,val}2017/<image>.png
    OUT/annotations/instances_{train,val}2017.json

Each image shows 2-3 textured stuff regions (grass, stripes, checker) under
2-8 randomly coloured, overlapping thing shapes (circle, square, triangle,
cross); about one image in six has a crowd region and about half have some
VOID pixels. The output is a pure function of ``(seed, size)`` and each
image's id, so regenerating gives byte-identical annotations.
"""
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from ..panoptic_png import id2rgb, rgb2id
from . import synthetic_shapes as shapes

SYNTHETIC_CATEGORIES = [
    dict(id=1, name='circle', supercategory='shape', isthing=1,
         color=[220, 20, 60]),
    dict(id=2, name='square', supercategory='shape', isthing=1,
         color=[119, 11, 32]),
    dict(id=3, name='triangle', supercategory='shape', isthing=1,
         color=[0, 0, 142]),
    dict(id=4, name='cross', supercategory='shape', isthing=1,
         color=[250, 170, 30]),
    dict(id=5, name='grass', supercategory='texture', isthing=0,
         color=[107, 142, 35]),
    dict(id=6, name='stripes', supercategory='texture', isthing=0,
         color=[190, 153, 153]),
    dict(id=7, name='checker', supercategory='texture', isthing=0,
         color=[70, 130, 180]),
]

_THINGS = [c for c in SYNTHETIC_CATEGORIES if c['isthing']]
_STUFF = [c for c in SYNTHETIC_CATEGORIES if not c['isthing']]

# mmdet's label of a class is its index in ``classes``: things first.
SYNTHETIC_METAINFO = dict(
    classes=tuple(c['name'] for c in _THINGS + _STUFF),
    thing_classes=tuple(c['name'] for c in _THINGS),
    stuff_classes=tuple(c['name'] for c in _STUFF),
    palette=[tuple(c['color']) for c in _THINGS + _STUFF])

SPLITS = ('train', 'val')
# Val ids start here so that they do not depend on ``num_train``: a val
# image is then the same whatever the size of the train split.
VAL_ID_OFFSET = 1_000_000
# The only paths this generator owns (and may replace) inside ``out_dir``.
OWNED_NAMES = ('train2017', 'val2017', 'annotations')

_INFO = dict(
    description='panoptic_zoo synthetic shapes', url='', version='1.0',
    year=2024, contributor='panoptic_zoo', date_created='2024/01/01')
_LICENSES = [dict(id=1, name='CC0 1.0',
                  url='https://creativecommons.org/publicdomain/zero/1.0/')]


def _thing_segment_id(rng, color, used):
    """Pick a fresh segment id near the category colour, as panopticapi's
    ``IdGenerator`` does, so that the PNGs are also viewable."""
    while True:
        jittered = np.clip(np.array(color) + rng.integers(-30, 31, 3), 0,
                           255)
        seg_id = rgb2id(jittered)
        if seg_id and seg_id not in used:
            used.add(seg_id)
            return seg_id


def _draw_thing(rng, canvas, seg_map, seg_id, cat, radius, centre):
    """Draw one thing shape on top, returning nothing (edits in place)."""
    size = seg_map.shape[0]
    angle = rng.uniform(0, 2 * math.pi)
    mask = shapes.shape_mask(cat['name'], centre[0], centre[1], radius,
                             angle, size)
    color = shapes.contrasting_color(rng, canvas[mask].mean(axis=0))
    shapes.paint(canvas, mask, color, rng, centre[0], centre[1], radius)
    seg_map[mask] = seg_id


def _draw_crowd(rng, canvas, seg_map, seg_id, cat, margin):
    """Draw a cluster of small same-class shapes that form ONE segment."""
    size = seg_map.shape[0]
    scale = size / 320
    half = rng.uniform(30, 55) * scale
    lo, hi = margin + half, size - margin - half
    cy, cx = rng.uniform(lo, max(hi, lo + 1), 2)
    union = np.zeros(seg_map.shape, dtype=bool)
    base = None
    for _ in range(rng.integers(5, 11)):
        radius = max(rng.uniform(5, 10) * scale, 2.0)
        my, mx = rng.uniform(-half, half, 2) + (cy, cx)
        mask = shapes.shape_mask(cat['name'], my, mx, radius,
                                 rng.uniform(0, 2 * math.pi), size)
        if not mask.any():
            continue
        if base is None:
            base = shapes.contrasting_color(rng, canvas[mask].mean(axis=0))
        color = np.clip(base + rng.uniform(-25, 25, 3), 0, 255)
        shapes.paint(canvas, mask, color, rng, my, mx, radius)
        union |= mask
    seg_map[union] = seg_id


def _render_image(rng, size):
    """Draw one image and its panoptic id map.

    Drawing order is stuff, VOID blotches, things (later ones occlude
    earlier ones), VOID border; a segment is whatever stays visible.

    Args:
        rng (np.random.Generator): The image's own generator.
        size (int): Side of the square image.

    Returns:
        tuple: ``(rgb, seg_map, segments)``: ``(size, size, 3)`` uint8
        image, ``(size, size)`` int64 id map (0 = VOID) and a list of
        ``dict(id, category_id, iscrowd)`` in drawing order.
    """
    scale = size / 320
    canvas = np.empty((size, size, 3), dtype=np.float32)
    seg_map = np.zeros((size, size), dtype=np.int64)
    segments, used = [], set()

    # Stuff: one segment per class, even if its region is disconnected.
    num_stuff = int(rng.integers(2, 4))
    regions = shapes.partition(rng, size, num_stuff)
    for region, idx in enumerate(rng.choice(len(_STUFF), num_stuff, False)):
        cat = _STUFF[idx]
        mask = regions == region
        canvas[mask] = shapes.texture(cat['name'], rng, size)[mask]
        seg_id = rgb2id(cat['color'])
        used.add(seg_id)
        seg_map[mask] = seg_id
        segments.append(dict(id=seg_id, category_id=cat['id'], iscrowd=0))

    void_kind = rng.choice(['none', 'border', 'blotches', 'both'],
                           p=[0.5, 0.2, 0.2, 0.1])
    if void_kind in ('blotches', 'both'):
        # Unlabelable clutter: random-noise ellipses nobody could classify.
        for _ in range(rng.integers(2, 5)):
            ry, rx = rng.uniform(4, 12, 2) * scale + 1
            cy, cx = rng.uniform(0, size, 2)
            mask = shapes.ellipse_mask(cy, cx, ry, rx,
                                       rng.uniform(0, math.pi), size)
            canvas[mask] = rng.uniform(0, 255, (int(mask.sum()), 3))
            seg_map[mask] = 0

    # Things stay inside the widest possible border, so the last one drawn
    # is fully visible and every image keeps at least one thing instance.
    margin = max(1, round(2 * scale)) + 1
    num_things = int(rng.integers(2, 9))
    crowd_at = int(rng.integers(num_things)) if rng.random() < 1 / 6 else -1
    for i in range(num_things):
        if i == crowd_at:
            cat = _THINGS[rng.integers(len(_THINGS))]
            seg_id = _thing_segment_id(rng, cat['color'], used)
            _draw_crowd(rng, canvas, seg_map, seg_id, cat, margin)
            segments.append(
                dict(id=seg_id, category_id=cat['id'], iscrowd=1))
        cat = _THINGS[rng.integers(len(_THINGS))]
        seg_id = _thing_segment_id(rng, cat['color'], used)
        radius = max(math.exp(rng.uniform(math.log(10), math.log(60))) *
                     scale, 4.0)
        radius = min(radius, (size / 2 - margin - 1) / shapes.SHAPE_REACH)
        reach = shapes.SHAPE_REACH * radius + margin
        centre = rng.uniform(reach, size - reach, 2)
        _draw_thing(rng, canvas, seg_map, seg_id, cat, radius, centre)
        segments.append(dict(id=seg_id, category_id=cat['id'], iscrowd=0))

    if void_kind in ('border', 'both'):
        width = max(1, round(int(rng.integers(1, 3)) * scale))
        frame = np.ones((size, size), dtype=bool)
        frame[width:-width, width:-width] = False
        canvas[frame] = rng.uniform(0, 255, 3)
        seg_map[frame] = 0

    rgb = np.clip(np.rint(canvas), 0, 255).astype(np.uint8)
    return rgb, seg_map, segments


def _segments_info(seg_map, segments, min_area):
    """Measure visible segments; turn too-small ones into VOID.

    Args:
        seg_map (np.ndarray): Id map, edited in place for dropped segments.
        segments (list[dict]): Segments in drawing order.
        min_area (int): Smallest visible area kept, in pixels.

    Returns:
        list[dict]: COCO ``segments_info`` entries (``id``,
        ``category_id``, ``iscrowd``, ``bbox`` [x, y, w, h], ``area``).
    """
    infos = []
    for seg in segments:
        mask = seg_map == seg['id']
        area = int(mask.sum())
        if area < min_area:
            seg_map[mask] = 0
            continue
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        x, y = int(cols[0]), int(rows[0])
        bbox = [x, y, int(cols[-1]) - x + 1, int(rows[-1]) - y + 1]
        infos.append(dict(seg, bbox=bbox, area=area))
    return infos


def _write_split(stage, split, image_ids, size, seed):
    """Render and write one split; return its summary counts."""
    img_dir = stage / f'{split}2017'
    pan_dir = stage / 'annotations' / f'panoptic_{split}2017'
    img_dir.mkdir(parents=True)
    pan_dir.mkdir(parents=True)
    is_thing = {c['id']: c['isthing'] for c in SYNTHETIC_CATEGORIES}
    min_area = max(8, round(30 * (size / 320)**2))
    images, pan_anns, ins_anns = [], [], []
    for image_id in image_ids:
        rng = np.random.default_rng([seed, image_id])
        rgb, seg_map, segments = _render_image(rng, size)
        infos = _segments_info(seg_map, segments, min_area)
        stem = f'{image_id:012d}'
        Image.fromarray(rgb).save(img_dir / f'{stem}.jpg', quality=90)
        Image.fromarray(id2rgb(seg_map)).save(pan_dir / f'{stem}.png')
        images.append(
            dict(id=image_id, file_name=f'{stem}.jpg', height=size,
                 width=size, license=1))
        pan_anns.append(
            dict(image_id=image_id, file_name=f'{stem}.png',
                 segments_info=infos))
        for info in infos:
            if not is_thing[info['category_id']]:
                continue
            rle = mask_utils.encode(
                np.asfortranarray(seg_map == info['id'], dtype=np.uint8))
            rle['counts'] = rle['counts'].decode('ascii')
            ins_anns.append(
                dict(id=len(ins_anns) + 1, image_id=image_id,
                     category_id=info['category_id'], segmentation=rle,
                     area=info['area'], bbox=info['bbox'],
                     iscrowd=info['iscrowd']))

    description = _INFO['description'] + f' (seed={seed}, size={size})'
    info = dict(_INFO, description=description)
    common = dict(info=info, licenses=_LICENSES, images=images)
    pan_json = stage / 'annotations' / f'panoptic_{split}2017.json'
    ins_json = stage / 'annotations' / f'instances_{split}2017.json'
    pan_json.write_text(json.dumps(dict(
        common, annotations=pan_anns, categories=SYNTHETIC_CATEGORIES)))
    ins_json.write_text(json.dumps(dict(
        common, annotations=ins_anns,
        categories=[dict(id=c['id'], name=c['name'],
                         supercategory=c['supercategory'])
                    for c in _THINGS])))
    num_segments = sum(len(a['segments_info']) for a in pan_anns)
    return dict(
        num_images=len(images), num_segments=num_segments,
        num_things=sum(1 - a['iscrowd'] for a in ins_anns),
        num_crowd=sum(a['iscrowd'] for a in ins_anns))


def _check_args(num_train, num_val, size, seed):
    """Reject arguments that would give a broken or colliding dataset."""
    for name, value, lo, hi in [('num_train', num_train, 0, VAL_ID_OFFSET),
                                ('num_val', num_val, 0, VAL_ID_OFFSET),
                                ('size', size, 64, 4096),
                                ('seed', seed, 0, None)]:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f'{name} must be an int, got {value!r}')
        if value < lo or (hi is not None and value >= hi):
            raise ValueError(f'{name} must be in [{lo}, {hi}), got {value}')


def make_synthetic_dataset(out_dir, num_train=300, num_val=60, size=320,
                           seed=0, overwrite=False):
    """Generate the synthetic COCO panoptic dataset under ``out_dir``.

    Files are written into a temporary sibling directory and moved into
    place at the end, so a failed run leaves nothing half-written.

    Args:
        out_dir (str | Path): Dataset root (mmdet's ``data_root``). Must be
            absent or empty unless ``overwrite`` is set.
        num_train (int): Number of train images (ids 1, 2, ...).
        num_val (int): Number of val images (ids 1000001, 1000002, ...).
        size (int): Side of the square images in pixels (>= 64).
        seed (int): Non-negative seed. Image ``i`` depends only on
            ``(seed, size, i)``, not on the split sizes.
        overwrite (bool): Replace an existing dataset. Only ``train2017/``,
            ``val2017/`` and ``annotations/`` are removed; other files in
            ``out_dir`` are kept.

    Returns:
        dict: Split name (``'train'``, ``'val'``) to a dict of counts
        (``num_images``, ``num_segments``, ``num_things``, ``num_crowd``)
        and final paths (``img_dir``, ``seg_dir``, ``pan_json``,
        ``ins_json``) as strings.

    Raises:
        FileExistsError: ``out_dir`` is a file, or a non-empty directory
            and ``overwrite`` is False.
    """
    _check_args(num_train, num_val, size, seed)
    out_dir = Path(out_dir).absolute()
    if out_dir.exists() and (not out_dir.is_dir() or (
            not overwrite and any(out_dir.iterdir()))):
        raise FileExistsError(
            f'{out_dir} exists and is not an empty directory; pass '
            f'overwrite=True (--overwrite) to replace the dataset in it')
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # mkdtemp's directory is private (0700); the stage inside it is made
    # with the usual umask, and it is the stage that becomes out_dir.
    tmp = Path(tempfile.mkdtemp(prefix=f'.{out_dir.name}.', suffix='.tmp',
                                dir=out_dir.parent))
    try:
        stage = tmp / 'stage'
        stage.mkdir()
        summary = {}
        for split, offset, count in [('train', 0, num_train),
                                     ('val', VAL_ID_OFFSET, num_val)]:
            ids = range(offset + 1, offset + count + 1)
            summary[split] = _write_split(stage, split, ids, size, seed)
        if out_dir.is_dir() and not any(out_dir.iterdir()):
            out_dir.rmdir()
        if not out_dir.exists():
            os.rename(stage, out_dir)
        else:
            for name in OWNED_NAMES:
                if (out_dir / name).is_dir():
                    shutil.rmtree(out_dir / name)
                elif (out_dir / name).exists():
                    (out_dir / name).unlink()
                os.rename(stage / name, out_dir / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    for split in SPLITS:
        ann = out_dir / 'annotations'
        summary[split].update(
            img_dir=str(out_dir / f'{split}2017'),
            seg_dir=str(ann / f'panoptic_{split}2017'),
            pan_json=str(ann / f'panoptic_{split}2017.json'),
            ins_json=str(ann / f'instances_{split}2017.json'))
    return summary
