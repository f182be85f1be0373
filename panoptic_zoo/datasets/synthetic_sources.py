"""The built-in shapes written in the SOURCE layouts of Cityscapes and
ADE20K, for ``panoptic-zoo convert`` to turn into COCO panoptic.

Each image is the one :mod:`.synthetic` draws for the same
``(seed, size, id)``; its classes are renamed to the target dataset's, some
of them to labels that the target's rules turn into VOID (Cityscapes'
``caravan`` and ``parking``, ignored in evaluation; ADE20K's thing pixels
without an instance). The generators return, per image, the panoptic
annotation the conversion must give (``expected``), computed from the
drawing, not from the files.
"""
import os
from pathlib import Path

import numpy as np
from PIL import Image

from . import synthetic
from .convert.ade20k_classes import INSTANCE_TO_SEMANTIC
from .convert.cityscapes_labels import ID_TO_LABEL

# shape / texture -> Cityscapes label id
CITYSCAPES_LABEL_OF = dict(circle=24, square=26, triangle=33, cross=29,
                           grass=21, stripes=7, checker=9)
# shape / texture -> SceneParse150 class (1-based)
ADE20K_CLASS_OF = dict(circle=13, square=21, triangle=20, cross=16,
                       grass=10, stripes=7, checker=49)
_SEMANTIC_TO_INSTANCE = {s: i for i, s in INSTANCE_TO_SEMANTIC.items()}
_NAME_OF = {c['id']: c['name'] for c in synthetic.SYNTHETIC_CATEGORIES}
_CITIES = dict(train=('aachen', 'bochum'), val=('frankfurt', ))


def _drawings(num, offset, size, seed):
    """``(image id, rgb, seg_map, segments_info)`` of the built-in data."""
    min_area = max(8, round(30 * (size / 320)**2))
    for image_id in range(offset + 1, offset + num + 1):
        rng = np.random.default_rng([seed, image_id])
        rgb, seg_map, segments = synthetic._render_image(rng, size)
        infos = synthetic._segments_info(seg_map, segments, min_area)
        yield image_id, rgb, seg_map, infos


def _splits(num_train, num_val):
    return [('train', 0, num_train),
            ('val', synthetic.VAL_ID_OFFSET, num_val)]


def make_cityscapes_source(out_dir, num_train=6, num_val=3, size=128,
                           seed=0) -> dict:
    """Write ``leftImg8bit/<split>/<city>/*_leftImg8bit.png`` and
    ``gtFine/<split>/<city>/*_gtFine_{instanceIds,labelIds}.png``.

    Returns:
        dict: Split to a list of expected ``(annotation, id map)``, the
        annotation as ``createPanopticImgs`` writes it.
    """
    out_dir = Path(out_dir)
    expected = {}
    for split, offset, num in _splits(num_train, num_val):
        expected[split] = []
        for n, (image_id, rgb, seg_map, infos) in enumerate(
                _drawings(num, offset, size, seed)):
            city = _CITIES[split][n % len(_CITIES[split])]
            stem = f'{city}_{image_id % synthetic.VAL_ID_OFFSET:06d}_000019'
            values = np.zeros(seg_map.shape, dtype=np.int64)
            ids = np.zeros(seg_map.shape, dtype=np.int64)
            next_instance, segments = {}, []
            for info in infos:
                label = ID_TO_LABEL[CITYSCAPES_LABEL_OF[_NAME_OF[
                    info['category_id']]]]
                if label.has_instances and not info['iscrowd']:
                    k = next_instance.get(label.id, 0)
                    next_instance[label.id] = k + 1
                    value = label.id * 1000 + k
                else:  # stuff, or a crowd of things: the label id alone
                    value = label.id
                mask = seg_map == info['id']
                values[mask] = value
                if label.ignore_in_eval:
                    continue
                ids[mask] = value
                segments.append(dict(
                    id=value, category_id=label.id,
                    area=info['area'], bbox=info['bbox'],
                    iscrowd=int(bool(info['iscrowd']))))
            for kind, folder, name, array in [
                    ('leftImg8bit', 'leftImg8bit', 'leftImg8bit', rgb),
                    ('gtFine', 'gtFine', 'gtFine_instanceIds',
                     values.astype(np.uint16)),
                    ('gtFine', 'gtFine', 'gtFine_labelIds',
                     np.where(values < 1000, values,
                              values // 1000).astype(np.uint8))]:
                path = out_dir / folder / split / city / f'{stem}_{name}.png'
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(array).save(path)
            expected[split].append((dict(
                image_id=stem, file_name=f'{stem}_gtFine_panoptic.png',
                segments_info=sorted(segments, key=lambda s: s['id'])),
                                    ids))
    return expected


def make_ade20k_source(out_dir, num_train=6, num_val=3, size=128,
                       seed=0) -> dict:
    """Write ``images/<split>/*.jpg``, ``annotations/<split>/*.png`` and
    ``annotations_instance/<split>/*.png`` (``ADEChallengeData2016``).

    Returns:
        dict: Split to a list of expected ``(image id, segments, id map)``:
        segments as ``dict(category_id, area, bbox, iscrowd)`` plus their
        ``id`` in the returned map (the converter picks its own ids).
    """
    out_dir = Path(out_dir)
    expected = {}
    folders = dict(train='training', val='validation')
    for split, offset, num in _splits(num_train, num_val):
        expected[split] = []
        for image_id, rgb, seg_map, infos in _drawings(num, offset, size,
                                                       seed):
            stem = f'ADE_{split}_{image_id:08d}'
            semantic = np.zeros(seg_map.shape, dtype=np.uint8)
            instance = np.zeros(seg_map.shape + (3, ), dtype=np.uint8)
            ids = np.zeros(seg_map.shape, dtype=np.int64)
            segments, number = [], 0
            for info in infos:
                cls = ADE20K_CLASS_OF[_NAME_OF[info['category_id']]]
                mask = seg_map == info['id']
                semantic[mask] = cls
                if cls in _SEMANTIC_TO_INSTANCE:
                    if info['iscrowd']:
                        continue  # a thing class without instance: VOID
                    number += 1
                    instance[mask] = (_SEMANTIC_TO_INSTANCE[cls], number, 0)
                ids[mask] = info['id']
                segments.append(dict(id=info['id'], category_id=cls - 1,
                                     area=info['area'], bbox=info['bbox'],
                                     iscrowd=0))
            for kind, array, ext in [('images', rgb, 'jpg'),
                                     ('annotations', semantic, 'png'),
                                     ('annotations_instance', instance,
                                      'png')]:
                path = out_dir / kind / folders[split] / f'{stem}.{ext}'
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(array).save(path, **(dict(quality=90)
                                                     if ext == 'jpg' else {}))
            expected[split].append((stem, segments, ids))
    return expected


def make_source(layout: str, out_dir, **kwargs) -> dict:
    """``make-data --layout cityscapes|ade20k``."""
    if os.path.exists(out_dir) and any(Path(out_dir).iterdir()):
        raise FileExistsError(f'{out_dir} exists and is not empty')
    make = dict(cityscapes=make_cityscapes_source,
                ade20k=make_ade20k_source)[layout]
    return make(out_dir, **kwargs)
