"""PQ of COCO panoptic files, equal to panopticapi's ``pq_compute``.

``pq_compute(gt_json, pred_json, gt_folder, pred_folder)`` takes the
arguments of ``panopticapi.evaluation.pq_compute``, raises its errors for
broken predictions and returns its dict with the same numbers to the bit,
from the vectorised core of :mod:`panoptic_zoo.ops.pq`. PNGs are decoded by
a thread pool (PIL and torch release the GIL); on a CPU the same threads
also count the pixel pairs, on a GPU a batch is counted at once.

Also the ``panoptic-zoo eval-pq`` subcommand (:func:`add_eval_pq_args`,
:func:`run_eval_pq`).
"""
import argparse
import contextlib
import json
import multiprocessing
import os
import os.path as osp
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from panoptic_zoo.ops import pq as pq_ops

try:
    import cv2
except ImportError:  # PIL decodes too, only slower
    cv2 = None

# (gt_map, pred_map) of one image: (H, W) integer ids, 0 = VOID / void.
MapLoader = Callable[[int], Tuple[Tensor, Tensor]]


def load_json(path: str, what: str) -> dict:
    """Read a JSON file; one clear error naming the file otherwise."""
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f'{what} file {path} does not exist') \
            from None
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f'{what} file {path} is not valid JSON: {e}') \
            from None


def read_id_map(path: str) -> Tensor:
    """Decode a COCO panoptic PNG into ``(H, W)`` int32 segment ids.

    panopticapi's ``R + 256 * G + 256**2 * B`` is the little-endian int32
    read of ``(R, G, B, A)`` pixels less the ``A`` byte: one SIMD colour
    conversion after decoding. OpenCV decodes ~1.5x faster than PIL.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'PNG file {path} does not exist')
    try:
        if cv2 is not None:
            bgr = cv2.imread(path, cv2.IMREAD_COLOR)
            if bgr is None:
                raise ValueError('not a readable image')
            rgba = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGBA)
        else:
            with Image.open(path) as img:
                rgba = np.array(img.convert('RGB').convert('RGBA'))
    except (OSError, ValueError) as e:
        raise ValueError(f'cannot read PNG file {path}: {e}') from None
    ids = rgba.view(np.int32)[..., 0]
    np.bitwise_and(ids, 0xFFFFFF, out=ids)  # drop the alpha byte
    return torch.from_numpy(ids)


def segment_table(segment_lists: Sequence[Sequence[dict]],
                  label_of: Dict[int, int]) -> pq_ops.SegmentTable:
    """Build a :class:`SegmentTable` from COCO ``segments_info`` lists.

    A list is read as panopticapi reads it: ``{s['id']: s for s in ...}``
    (a repeated id keeps its first position and its last fields).

    Args:
        segment_lists (Sequence[Sequence[dict]]): B lists of dicts with
            ``id``, ``category_id`` and optionally ``iscrowd``, ``area``.
        label_of (dict[int, int]): Category id to category index; ids not
            in it get label -1.

    Returns:
        SegmentTable: On the CPU.
    """
    by_ids = [{s['id']: s for s in segments} for segments in segment_lists]
    width = max([1] + [len(by_id) for by_id in by_ids])
    ids, labels, iscrowd, region, areas = [], [], [], [], []
    nan = float('nan')
    for by_id in by_ids:  # list comprehensions: this is per-segment Python
        keys = sorted(by_id)
        segs = [by_id[k] for k in keys]
        pad = width - len(keys)
        crowd = [s.get('iscrowd', 0) == 1 for s in segs]
        ids += keys + [torch.iinfo(torch.int64).max] * pad
        labels += [label_of.get(s['category_id'], -1) for s in segs]
        areas += [s.get('area', nan) for s in segs] + [nan] * pad
        iscrowd += crowd + [False] * pad
        if any(crowd):  # the last crowd segment of a category, JSON order
            crowd_of = {
                s['category_id']: i
                for i, s in by_id.items() if s.get('iscrowd', 0) == 1
            }
            region += [
                c and crowd_of[s['category_id']] == k
                for c, s, k in zip(crowd, segs, keys)
            ]
        else:
            region += crowd
        labels += [-1] * pad
        region += [False] * pad
    shape = (len(by_ids), width)

    def column(values, dtype):
        return torch.from_numpy(np.array(values, dtype=dtype).reshape(shape))

    return pq_ops.SegmentTable(
        ids=column(ids, np.int64),
        labels=column(labels, np.int64),
        iscrowd=column(iscrowd, bool),
        crowd_region=column(region, bool),
        areas=column(areas, np.float64),
        num=torch.tensor([len(by_id) for by_id in by_ids]))


def check_prediction(image_id, pred_map: np.ndarray,
                     pred_segments: Sequence[dict], categories: dict) -> None:
    """panopticapi's checks of one prediction, in its order, raising its
    ``KeyError``; run on the images the fast path found broken, so that
    the error (which problem, which segment) is panopticapi's."""
    pred_segms = {el['id']: el for el in pred_segments}
    left = set(el['id'] for el in pred_segments)
    for label in np.unique(pred_map).tolist():
        if label not in pred_segms:
            if label == pq_ops.VOID:
                continue
            raise KeyError(
                f'In the image with ID {image_id} segment with ID {label} '
                'is presented in PNG and not presented in JSON.')
        left.remove(label)
        if pred_segms[label]['category_id'] not in categories:
            raise KeyError(
                f'In the image with ID {image_id} segment with ID {label} '
                'has unknown category_id '
                f'{pred_segms[label]["category_id"]}.')
    if left:
        raise KeyError(
            f'In the image with ID {image_id} the following segment IDs '
            f'{list(left)} are presented in JSON and not presented in PNG.')


def _prediction_errors(counts: Tensor, pred: pq_ops.SegmentTable) -> Tensor:
    """``(B,)`` bool: a predicted map disagrees with its segment list (a
    pixel id neither 0 nor listed; a listed segment without pixels or of
    an unknown category)."""
    listed = torch.arange(
        pred.ids.shape[1], device=counts.device) < pred.num[:, None]
    empty = counts[:, :, pq_ops.FIRST:].sum(1) == 0
    return (counts[:, :, pq_ops.OTHER].sum(1)
            > 0) | (listed & (empty | (pred.labels < 0))).any(1)


@contextlib.contextmanager
def _opencv_single_threaded():
    """OpenCV's own threads contend with ours (16 decoding threads ran 4x
    slower): switch them off, process-wide, while ours run."""
    before = cv2.getNumThreads() if cv2 is not None else None
    if before is not None:
        cv2.setNumThreads(1)
    try:
        yield
    finally:
        if before is not None:
            cv2.setNumThreads(before)


def evaluate_images(load: MapLoader,
                    images: Sequence[Tuple[object, list, list]],
                    categories: Sequence[dict],
                    *,
                    device: str = 'cpu',
                    workers: Optional[int] = None,
                    batch_size: int = 64) -> pq_ops.PQMatches:
    """Match every image; maps come from ``load(k)`` in worker threads.

    Args:
        load (MapLoader): ``k -> (gt_map, pred_map)`` of image ``k``, CPU
            tensors (for ``device='cpu'``) or tensors on ``device``.
        images (Sequence[tuple]): ``(image_id, gt_segments_info,
            pred_segments_info)`` of each image.
        categories (Sequence[dict]): GT JSON categories, in order.
        device (str): ``'cpu'`` or a CUDA device.
        workers (int, optional): Threads; default: the CPU count.
        batch_size (int): Images matched together.

    Returns:
        PQMatches: On the CPU, images numbered in the given order.

    Raises:
        KeyError: panopticapi's error for the first broken prediction.
    """
    device = torch.device(device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise ValueError(f'device {device} asked for, but CUDA is not '
                         'available')
    label_of = {c['id']: i for i, c in enumerate(categories)}
    cats = {c['id']: c for c in categories}
    image_ids, gt_segments, pred_segments = zip(
        *images) if images else [()] * 3
    num = len(images)

    def work(k, gt_ids, pred_ids):
        gt_map, pred_map = load(k)
        if device.type != 'cpu':
            return gt_map, pred_map
        return pq_ops.confusion_single(gt_map, pred_map, gt_ids, pred_ids)

    def submit(pool, start):
        ks = range(start, min(start + batch_size, num))
        gt = segment_table([gt_segments[k] for k in ks], label_of)
        if bool((gt.ids[:, 0] == pq_ops.VOID).any()):
            k = ks[int((gt.ids[:, 0] == pq_ops.VOID).nonzero()[0])]
            raise ValueError(f'In the image with ID {image_ids[k]} a GT '
                             'segment has ID 0, which means VOID')
        pred = segment_table([pred_segments[k] for k in ks], label_of)
        return ks, gt, pred, [
            pool.submit(work, k, gt.ids[b, :gt.num[b]],
                        pred.ids[b, :pred.num[b]]) for b, k in enumerate(ks)
        ]

    parts: list = []
    # Each thread runs torch single-threaded too: the arrays of one image
    # are too small for intra-op threads, which only contend with ours.
    with ThreadPoolExecutor(
            workers or os.cpu_count() or 1,
            initializer=torch.set_num_threads,
            initargs=(1, )) as pool, _opencv_single_threaded():
        pending = submit(pool, 0) if num else None
        while pending is not None:
            ks, gt, pred, jobs = pending
            # Queue the next batch first, so decoding overlaps matching.
            pending = submit(pool, ks.stop) if ks.stop < num else None
            outs = [job.result() for job in jobs]
            if device.type == 'cpu':
                counts = torch.zeros(
                    (len(ks), gt.ids.shape[1] + 2, pred.ids.shape[1] + 2),
                    dtype=torch.int64)
                for b, one in enumerate(outs):
                    counts[b, :one.shape[0], :one.shape[1]] = one
            else:
                gt, pred = gt.to(device), pred.to(device)
                counts = pq_ops.confusion([o[0].to(device) for o in outs],
                                          [o[1].to(device) for o in outs], gt,
                                          pred)
            bad = _prediction_errors(counts, pred)
            if bad.any():  # find panopticapi's error on the slow path
                k = ks[int(bad.nonzero()[0])]
                check_prediction(image_ids[k],
                                 load(k)[1].cpu().numpy(), pred_segments[k],
                                 cats)
                raise KeyError(f'In the image with ID {image_ids[k]} the '
                               'prediction does not agree with its JSON')
            parts.append(pool.submit(pq_ops.match_segments, counts, gt, pred))
    return pq_ops.PQMatches.cat([p.result().cpu() for p in parts])


def pq_compute(gt_json_file: str,
               pred_json_file: str,
               gt_folder: Optional[str] = None,
               pred_folder: Optional[str] = None,
               *,
               device: str = 'cpu',
               workers: Optional[int] = None,
               batch_size: int = 64,
               num_chunks: Optional[int] = None) -> dict:
    """panopticapi's ``pq_compute``: same arguments, errors and numbers.

    Args:
        gt_json_file, pred_json_file (str): COCO panoptic JSON files.
        gt_folder, pred_folder (str, optional): PNG folders; default: the
            JSON path without ``.json``, as panopticapi.
        device (str): Where pixels are counted: ``'cpu'`` or ``'cuda'``.
        workers (int, optional): Decoding threads; default: CPU count.
        batch_size (int): Images counted together.
        num_chunks (int, optional): Image chunks whose IoU sums are added
            separately, as panopticapi's workers; default: its
            ``multiprocessing.cpu_count()``, for bit-identical numbers.

    Returns:
        dict: ``{'All', 'per_class', 'Things', 'Stuff'}`` as panopticapi.
    """
    gt_json = load_json(gt_json_file, 'GT JSON')
    pred_json = load_json(pred_json_file, 'prediction JSON')
    gt_folder = gt_folder or gt_json_file.replace('.json', '')
    pred_folder = pred_folder or pred_json_file.replace('.json', '')
    for folder, what in ((gt_folder, 'ground truth'), (pred_folder,
                                                       'predicted')):
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f"Folder {folder} with {what} segmentations doesn't exist")
    try:
        categories = list({c['id']: c for c in gt_json['categories']}.values())
        pred_anns = {a['image_id']: a for a in pred_json['annotations']}
        pairs = []
        for gt_ann in gt_json['annotations']:
            if gt_ann['image_id'] not in pred_anns:
                raise ValueError('no prediction for the image with id: '
                                 f'{gt_ann["image_id"]}')
            pairs.append((gt_ann, pred_anns[gt_ann['image_id']]))
    except (KeyError, TypeError) as e:
        raise ValueError(f'{gt_json_file} or {pred_json_file} is not in '
                         f'COCO panoptic format: missing {e}') from None

    def load(k):
        gt_ann, pred_ann = pairs[k]
        return (read_id_map(osp.join(gt_folder, gt_ann['file_name'])),
                read_id_map(osp.join(pred_folder, pred_ann['file_name'])))

    images = [(g['image_id'], g['segments_info'], p['segments_info'])
              for g, p in pairs]
    matches = evaluate_images(
        load,
        images,
        categories,
        device=device,
        workers=workers,
        batch_size=batch_size)
    stat = pq_ops.accumulate(matches, len(categories), num_chunks
                             or multiprocessing.cpu_count())
    return pq_ops.pq_results(stat, categories)


def format_pq_table(results: dict) -> str:
    """panopticapi's printed table of a ``pq_compute`` result."""
    lines = [
        '{:10s}| {:>5s}  {:>5s}  {:>5s} {:>5s}'.format('', 'PQ', 'SQ', 'RQ',
                                                       'N'), '-' * (10 + 7 * 4)
    ]
    for name in ('All', 'Things', 'Stuff'):
        r = results[name]
        lines.append('{:10s}| {:5.1f}  {:5.1f}  {:5.1f} {:5d}'.format(
            name, 100 * r['pq'], 100 * r['sq'], 100 * r['rq'], r['n']))
    return '\n'.join(lines)


def add_eval_pq_args(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``panoptic-zoo eval-pq``."""
    parser.add_argument('gt_json', help='GT panoptic JSON file')
    parser.add_argument('gt_dir', help='folder of the GT PNGs')
    parser.add_argument('pred_json', help='predicted panoptic JSON file')
    parser.add_argument('pred_dir', help='folder of the predicted PNGs')
    parser.add_argument(
        '--json',
        metavar='OUT',
        help="also write pq_compute's result "
        'dict (fractions, full precision) to this JSON file')
    parser.add_argument(
        '--device', default='cpu', help="'cpu' (default) or 'cuda'")
    parser.add_argument(
        '--workers', type=int, help='PNG decoding threads (default: CPUs)')


def run_eval_pq(args: argparse.Namespace) -> dict:
    """Run ``eval-pq``: print panopticapi's table, maybe write ``--json``.

    A broken input exits with status 1 and one line saying what is wrong.
    """
    try:
        results = pq_compute(
            args.gt_json,
            args.pred_json,
            args.gt_dir,
            args.pred_dir,
            device=args.device,
            workers=args.workers)
    except (OSError, ValueError, KeyError) as e:
        message = e.args[0] if isinstance(e, KeyError) else e
        sys.exit(f'panoptic-zoo eval-pq: error: {message}')
    print(format_pq_table(results))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)
    return results
