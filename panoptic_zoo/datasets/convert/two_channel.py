"""panopticapi's two-channel format -> COCO panoptic: one PNG per image
whose first channel is the category id (0: VOID) and second the instance
number; each distinct (category, instance) pair is one segment, as
panopticapi's ``2channels2panoptic_coco_format.py`` reads it (no crowd:
the format has none). Images and categories come from a COCO-style JSON
(``images``, ``categories`` with ``isthing``)."""
import os.path as osp
from typing import Optional

import numpy as np
from PIL import Image

from .writer import SegmentIds, SplitWriter, paint_labels

OFFSET = 1000  # panopticapi's: pair value = category * 1000 + instance


def two_channel_segments(png: np.ndarray, categories: dict, new_id):
    """Id map and segments of one two-channel array ``(H, W, >=2)``."""
    pairs = png[..., 0].astype(np.int64) * OFFSET + png[..., 1]

    def category_of(value, mask):
        cat = value // OFFSET
        if cat != 0 and cat not in categories:
            raise ValueError(f'category {cat} (first channel) is not a '
                             'category of the JSON')
        return cat or None

    ids = np.zeros(pairs.shape, dtype=np.int64)
    segments = []
    paint_labels(pairs, category_of, new_id, ids, segments)
    return ids, segments


def convert_two_channel(src: str,
                        images_json: str,
                        dst: str,
                        img_dir: str,
                        name: Optional[str] = None,
                        jobs: int = 1) -> dict:
    """Convert the folder ``src`` of ``<image stem>.png`` two-channel PNGs.

    Returns:
        dict: ``ann_file``, ``seg_dir``, ``num_images``.
    """
    from panoptic_zoo.datasets.check.runner import load_json
    data, problem = load_json(images_json)
    if problem is not None:
        raise ValueError(problem.line())
    categories = {c['id']: c for c in data['categories']}
    colors = {i: c.get('color') or [0, 0, 0] for i, c in categories.items()}
    name = name or 'panoptic_' + osp.basename(osp.normpath(src))
    writer = SplitWriter(dst, name, data['categories'], img_dir)
    try:
        for image in data['images']:
            stem = osp.splitext(image['file_name'])[0]
            path = osp.join(src, stem + '.png')
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'image {image["id"]!r}: no two-channel PNG {path}')
            with Image.open(path) as img:
                png = np.asarray(img)
            if png.ndim != 3 or png.shape[:2] != (image['height'],
                                                  image['width']):
                raise ValueError(
                    f'{path}: shape {png.shape}, expected '
                    f'({image["height"]}, {image["width"]}, 2 or more)')
            try:
                ids, segments = two_channel_segments(
                    png, categories, SegmentIds(colors, str(image['id'])))
            except ValueError as e:
                raise ValueError(f'{path}: {e}') from None
            writer.add(dict(id=image['id'], file_name=image['file_name'],
                            height=image['height'], width=image['width']),
                       stem + '.png', ids, segments)
    except BaseException:
        writer.abort()
        raise
    out_json, seg_dir = writer.finish(jobs)
    return dict(ann_file=str(out_json), seg_dir=str(seg_dir),
                num_images=len(data['images']))
