"""Checks that decode the files of one image: the image, its panoptic PNG,
and the PNG's segments against ``segments_info`` (both ways, area, bbox).

Pure numpy + PIL so that worker processes start fast.
"""
import os.path as osp
from typing import List, Tuple

import numpy as np
from PIL import Image

from .annotations import PixelTask
from .problems import Problem


def resolve_image(img_dir: str, file_name: str) -> str:
    """Path of an image named in the JSON.

    Cityscapes panoptic JSONs name images bare while they sit in per-city
    folders (``leftImg8bit/train/aachen/``): a bare name that is not found
    directly is looked up in the folder named by its prefix. The official
    ``createPanopticImgs`` also names them ``*_gtFine_leftImg8bit.png``,
    a file that does not exist: that is read as ``*_leftImg8bit.png``.
    """
    path = osp.join(img_dir, file_name)
    if osp.exists(path) or '/' in file_name or '_' not in file_name:
        return path
    name = file_name.replace('_gtFine_leftImg8bit.', '_leftImg8bit.')
    for candidate in (osp.join(img_dir, name),
                      osp.join(img_dir, name.split('_', 1)[0], name)):
        if osp.exists(candidate):
            return candidate
    return path


def _image_size(path: str, task: PixelTask) -> Tuple[list, tuple]:
    """Decode the image fully; return problems and its (h, w) or None."""
    if not osp.isfile(path):
        return [Problem('image-missing', path, 'no such file',
                        task.image_id)], None
    try:
        with Image.open(path) as img:
            size = img.size
            # A JPEG decoded at 1/8 scale still reads every coefficient,
            # so truncation is found for a fraction of the full decode.
            img.draft(img.mode, (size[0] // 8, size[1] // 8))
            img.load()
    except Exception as e:  # PIL raises many kinds for broken files
        return [Problem('image-unreadable', path, f'{type(e).__name__}: '
                        f'{e}', task.image_id)], None
    hw = (size[1], size[0])
    if hw != (task.height, task.width):
        return [Problem(
            'image-size', path,
            f'the file is {hw[0]}x{hw[1]} (HxW), the JSON says '
            f'{task.height}x{task.width}', task.image_id)], hw
    return [], hw


def read_png_ids(path: str) -> Tuple[np.ndarray, str]:
    """Decode a panoptic PNG into ``(H, W)`` uint32 ids and its mode.

    ``R + 256 G + 256^2 B`` is the little-endian uint32 read of an RGBA
    pixel less its A byte: one conversion instead of three int64 passes.

    Raises:
        OSError, ValueError, ...: The file cannot be decoded.
    """
    with Image.open(path) as img:
        mode = img.mode
        rgba = np.asarray(img.convert('RGBA'))
    return rgba.view('<u4')[..., 0] & 0xFFFFFF, mode


def segment_stats(ids: np.ndarray) -> dict:
    """Per id of a map: ``(area, [x, y, w, h])``, in one sort."""
    height, width = ids.shape
    flat = ids.ravel()
    order = np.argsort(flat, kind='stable')
    ordered = flat[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(ordered)) + 1))
    areas = np.diff(np.concatenate((starts, [flat.size])))
    ys, xs = np.divmod(order, width)
    x0, x1 = np.minimum.reduceat(xs, starts), np.maximum.reduceat(xs, starts)
    y0, y1 = np.minimum.reduceat(ys, starts), np.maximum.reduceat(ys, starts)
    return {
        int(ordered[s]): (int(a), [int(a0), int(b0), int(a1 - a0 + 1),
                                   int(b1 - b0 + 1)])
        for s, a, a0, b0, a1, b1 in zip(starts, areas, x0, y0, x1, y1)
    }


def _bgr(seg_id: int) -> int:
    r, g, b = seg_id % 256, seg_id // 256 % 256, seg_id // 65536
    return b + 256 * g + 65536 * r


def _segment_problems(task, path, stats) -> List[Problem]:
    problems = []
    in_png = set(stats) - {0}
    in_json = {s['id'] for s in task.segments}
    extra, missing = sorted(in_png - in_json), sorted(in_json - in_png)
    if extra and {_bgr(i) for i in in_png} == in_json:
        return [Problem('png-bgr', path,
                        f'PNG ids {extra[:5]} are the JSON ids '
                        f'{[_bgr(i) for i in extra[:5]]} with R and B '
                        'swapped', task.image_id)]
    for seg_id in extra:
        area, box = stats[seg_id]
        problems.append(Problem(
            'png-id-not-in-json', path,
            f'{area} pixels in box {box} have this id', task.image_id,
            seg_id))
    for seg_id in missing:
        problems.append(Problem('json-id-not-in-png', path,
                                'no pixel of the PNG has this id',
                                task.image_id, seg_id))
    for seg in task.segments:
        if seg['id'] not in stats or seg['id'] == 0:
            continue
        area, box = stats[seg['id']]
        if seg['area'] != area:
            problems.append(Problem(
                'area-mismatch', path,
                f'JSON area {seg["area"]}, PNG {area} pixels',
                task.image_id, seg['id']))
        if [float(v) for v in seg['bbox']] != [float(v) for v in box]:
            problems.append(Problem(
                'bbox-mismatch', path,
                f'JSON bbox {list(seg["bbox"])}, PNG pixels {box}',
                task.image_id, seg['id']))
    return problems


def check_pixels(task: PixelTask, img_dir: str,
                 seg_dir: str) -> List[Problem]:
    """Every pixel-level problem of one image."""
    img_path = resolve_image(img_dir, task.image_file)
    problems, img_hw = _image_size(img_path, task)
    png_path = osp.join(seg_dir, task.png_file)
    if not osp.isfile(png_path):
        return problems + [Problem('png-missing', png_path, 'no such file',
                                   task.image_id)]
    try:
        ids, mode = read_png_ids(png_path)
    except Exception as e:  # PIL raises many kinds for broken files
        return problems + [Problem('png-unreadable', png_path,
                                   f'{type(e).__name__}: {e}',
                                   task.image_id)]
    if mode not in ('RGB', 'RGBA'):
        problems.append(Problem('png-mode', png_path, f'PIL mode {mode!r}',
                                task.image_id))
    ref = img_hw or (task.height, task.width)
    if ids.shape != ref:
        what = 'image' if img_hw else 'JSON height/width'
        return problems + [Problem(
            'png-size', png_path,
            f'the PNG is {ids.shape[0]}x{ids.shape[1]} (HxW), the {what} '
            f'{ref[0]}x{ref[1]}', task.image_id)]
    return problems + _segment_problems(task, png_path, segment_stats(ids))


def check_pixels_chunk(args) -> List[Problem]:
    """Worker entry: ``(tasks, img_dir, seg_dir)`` -> problems."""
    tasks, img_dir, seg_dir = args
    return [p for t in tasks for p in check_pixels(t, img_dir, seg_dir)]
