"""``panoptic-zoo show-data ROOT``: a contact sheet of a COCO panoptic
dataset's ground truth, with class names and a legend.

Reads ``ROOT/annotations/panoptic_{split}2017.json``, its PNGs and the
images in ``ROOT/{split}2017/`` directly (no model, no mmdet dataset), so
it also checks that a dataset one made is laid out as the loaders expect.
"""
import argparse
import os.path as osp
from typing import List, Tuple

import numpy as np

from panoptic_zoo.panoptic_png import INSTANCE_OFFSET


def gt_panoptic(segments: List[dict], ids: np.ndarray,
                label_of: dict) -> np.ndarray:
    """COCO ids + ``segments_info`` as an mmdet panoptic map: ``label +
    k * INSTANCE_OFFSET`` for the k-th thing segment, void elsewhere."""
    void = len(label_of)
    pan = np.full(ids.shape, void, np.int64)
    k = 0
    for seg in segments:
        label, isthing = label_of[seg['category_id']]
        mask = ids == seg['id']
        if isthing and not seg.get('iscrowd', 0):
            k += 1
            pan[mask] = label + k * INSTANCE_OFFSET
        else:  # stuff, and crowd regions drawn as their class
            pan[mask] = label
    return pan


def dataset_sheet(root: str, split: str = 'val', num: int = 6,
                  start: int = 0) -> Tuple[np.ndarray, List[str]]:
    """The contact sheet (uint8 RGB) and the file names drawn.

    Raises:
        FileNotFoundError: Naming the missing JSON / image / PNG.
    """
    from PIL import Image

    from panoptic_zoo.evaluation.pq_files import load_json, read_id_map
    from .panoptic_grid import panoptic_grid
    ann_file = osp.join(root, 'annotations', f'panoptic_{split}2017.json')
    if not osp.isfile(ann_file):
        raise FileNotFoundError(
            f'{ann_file} not found: ROOT must be a dataset in the COCO '
            'panoptic layout (run `panoptic-zoo make-data ROOT` for the '
            'built-in one), SPLIT one of its splits (train, val)')
    gt = load_json(ann_file, 'GT JSON')
    cats = gt['categories']
    label_of = {c['id']: (i, bool(c.get('isthing'))) for i, c in
                enumerate(cats)}
    classes = [c['name'] for c in cats]
    palette = [tuple(c['color']) if 'color' in c else None for c in cats]
    palette = palette if all(palette) else None
    images = {im['id']: im for im in gt.get('images', [])}
    rows, titles = [], []
    for ann in gt['annotations'][start:start + num]:
        info = images.get(ann['image_id'], {})
        name = info.get('file_name',
                        osp.splitext(ann['file_name'])[0] + '.jpg')
        img_path = osp.join(root, f'{split}2017', name)
        if not osp.isfile(img_path):
            raise FileNotFoundError(f'image {img_path} of {ann_file} not '
                                    'found')
        image = np.asarray(Image.open(img_path).convert('RGB'))
        ids = read_id_map(
            osp.join(root, 'annotations', f'panoptic_{split}2017',
                     ann['file_name'])).numpy().astype(np.int64)
        rows.append((image, gt_panoptic(ann['segments_info'], ids,
                                        label_of)))
        titles.append(f'{name}  ({len(ann["segments_info"])} segments)')
    if not rows:
        raise ValueError(f'{ann_file} has no annotation from index {start}')
    sheet = panoptic_grid(rows, classes, palette,
                          headers=('image', 'ground truth'), titles=titles)
    return sheet, titles


def add_show_data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('root', help='dataset root (COCO panoptic layout)')
    parser.add_argument('--split', default='val', help='default: val')
    parser.add_argument('--n', type=int, default=6,
                        help='images on the sheet (default: 6)')
    parser.add_argument('--start', type=int, default=0,
                        help='index of the first image (default: 0)')
    parser.add_argument(
        '--out', help='PNG to write (default: ROOT/show_<split>.png)')


def run_show_data(args: argparse.Namespace) -> str:
    from PIL import Image
    if args.n < 1:
        raise ValueError(f'--n must be >= 1, got {args.n}')
    sheet, _ = dataset_sheet(args.root, args.split, args.n, args.start)
    out = args.out or osp.join(args.root, f'show_{args.split}.png')
    Image.fromarray(sheet).save(out)
    print(f'{out}: {sheet.shape[1]}x{sheet.shape[0]}')
    return out
