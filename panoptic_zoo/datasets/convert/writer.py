"""Writing a COCO panoptic split: PNGs + JSON staged next to the
destination, checked by check-data, then moved into place, so a failed or
interrupted conversion leaves nothing half-written."""
import json
import os
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

import numpy as np
from PIL import Image

from panoptic_zoo.datasets.check import DataCheckError, check_split
from panoptic_zoo.datasets.check.pixels import segment_stats


def id_map_to_rgb(ids: np.ndarray) -> np.ndarray:
    """``(H, W)`` ids -> ``(H, W, 3)`` uint8, ``R + 256 G + 256^2 B``."""
    ids = ids.astype(np.int64)
    return np.stack([ids % 256, ids // 256 % 256, ids // 65536],
                    axis=-1).astype(np.uint8)


def segments_info(ids: np.ndarray, segments: Iterable[dict]) -> List[dict]:
    """``segments_info`` of an id map: each given segment (``id``,
    ``category_id``, ``iscrowd``) with its ``area`` and ``bbox`` measured
    on the map; segments without a pixel are left out."""
    stats = segment_stats(ids)
    out = []
    for seg in segments:
        if seg['id'] in stats:
            area, bbox = stats[seg['id']]
            out.append(dict(id=int(seg['id']),
                            category_id=int(seg['category_id']),
                            area=area, bbox=bbox,
                            iscrowd=int(seg.get('iscrowd', 0))))
    return out


class SegmentIds:
    """Unique segment ids of one image: the category colour first, then
    colours near it, as panopticapi's ``IdGenerator``, so that PNGs stay
    viewable; but the jitter is seeded by the image name (reproducible) and
    no colour is ever reused, stuff included."""

    def __init__(self, colors: dict, image_key: str):
        self.colors = colors
        self.taken = {0}
        self.rng = np.random.default_rng(zlib.crc32(image_key.encode()))

    def new(self, category_id) -> int:
        base = np.asarray(self.colors[category_id], dtype=np.int64)
        color = base
        while True:
            seg_id = int(color[0] + 256 * color[1] + 65536 * color[2])
            if seg_id not in self.taken:
                self.taken.add(seg_id)
                return seg_id
            color = np.clip(base + self.rng.integers(-30, 31, 3), 0, 255)


def paint_labels(labels: np.ndarray, category_of, new_id: 'SegmentIds',
                 ids: np.ndarray, segments: List[dict]) -> None:
    """One new segment per distinct value of a label map.

    Args:
        labels (np.ndarray): ``(H, W)`` integer map.
        category_of (callable): ``(value, mask) -> category id``, or None
            for values that are not segments (VOID, classes handled
            elsewhere); raises ValueError for values it cannot map.
        new_id (SegmentIds): The image's id allocator.
        ids (np.ndarray): The id map painted in place.
        segments (list[dict]): Receives ``dict(id, category_id, iscrowd)``.
    """
    for value in np.unique(labels).tolist():
        mask = labels == value
        cat = category_of(value, mask)
        if cat is None:
            continue
        seg_id = new_id.new(cat)
        ids[mask] = seg_id
        segments.append(dict(id=seg_id, category_id=cat, iscrowd=0))


class SplitWriter:
    """Collects one split and writes ``<name>.json`` + ``<name>/*.png``.

    Args:
        dst (str | Path): Output folder (created if needed).
        name (str): JSON stem and PNG folder name.
        categories (list[dict]): The JSON's categories.
        img_dir (str): Where the images are, for the final check.
    """

    def __init__(self, dst, name: str, categories: List[dict],
                 img_dir: str):
        self.dst, self.name = Path(dst), name
        self.categories, self.img_dir = categories, img_dir
        self.images, self.annotations = [], []
        self.dst.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f'.{name}.', dir=self.dst))
        (self.tmp / name).mkdir()

    def add(self, image: dict, png_name: str, ids: np.ndarray,
            segments: Iterable[dict]) -> dict:
        """Write one image's PNG; return its annotation."""
        Image.fromarray(id_map_to_rgb(ids)).save(self.tmp / self.name /
                                                 png_name)
        ann = dict(image_id=image['id'], file_name=png_name,
                   segments_info=segments_info(ids, segments))
        self.images.append(image)
        self.annotations.append(ann)
        return ann

    def finish(self, jobs: int = 1, **json_args) -> Tuple[Path, Path]:
        """Write the JSON, check the split, move it into place.

        Returns:
            tuple: ``(json path, PNG folder)``.

        Raises:
            DataCheckError: The output fails check-data (nothing written).
        """
        try:
            ann_file = self.tmp / f'{self.name}.json'
            with open(ann_file, 'w') as f:
                json.dump(dict(images=self.images,
                               annotations=self.annotations,
                               categories=self.categories), f, **json_args)
            report = check_split(str(ann_file), str(self.tmp / self.name),
                                 self.img_dir, name=self.name, jobs=jobs)
            if not report.ok:
                raise DataCheckError([report], 'the converted split fails '
                                     'check-data; nothing was written')
            final_json = self.dst / f'{self.name}.json'
            final_dir = self.dst / self.name
            if final_dir.exists():
                shutil.rmtree(final_dir)
            os.replace(self.tmp / self.name, final_dir)
            os.replace(ann_file, final_json)
            return final_json, final_dir
        finally:
            self.abort()

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def bare_stem(path: str, suffix: str) -> Optional[str]:
    name = os.path.basename(path)
    return name[:-len(suffix)] if name.endswith(suffix) else None
