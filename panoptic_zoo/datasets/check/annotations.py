"""Checks of a COCO panoptic JSON that need no pixel: structure,
categories, images, annotations, segments, and the config's classes.

:func:`check_annotations` returns the problems and, for every annotation
whose fields are sound, a :class:`PixelTask` for :mod:`.pixels`.
"""
import numbers
from collections import Counter
from dataclasses import dataclass
from typing import List, Optional, Tuple

from .problems import Problem

MAX_ID = 1 << 24  # ids are written as one RGB colour


@dataclass
class PixelTask:
    """What :mod:`.pixels` needs to check one image."""
    image_id: object
    image_file: str
    height: int
    width: int
    png_file: str
    segments: List[dict]


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(
        value, bool)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_id(value) -> bool:
    # COCO uses ints; Cityscapes and ADE20K panoptic JSONs use strings.
    return _is_int(value) or (isinstance(value, str) and value != '')


def _check_categories(cats, path) -> Tuple[dict, List[Problem]]:
    problems, by_id, names = [], {}, Counter()
    for i, cat in enumerate(cats):
        if not isinstance(cat, dict) or not _is_int(cat.get('id')) or \
                not isinstance(cat.get('name'), str) or \
                cat.get('isthing') not in (0, 1):
            problems.append(Problem(
                'category-field', path,
                f'categories[{i}] = {_short(cat)}: needs int id, str name '
                f'and isthing 0 or 1'))
            continue
        if cat['id'] in by_id:
            problems.append(Problem(
                'category-duplicate-id', path,
                f'category id {cat["id"]} is used by '
                f'{by_id[cat["id"]]["name"]!r} and {cat["name"]!r}'))
            continue
        by_id[cat['id']] = cat
        names[cat['name']] += 1
    for name, n in names.items():
        if n > 1:
            problems.append(Problem('category-duplicate-name', path,
                                    f'{n} categories are named {name!r}'))
    return by_id, problems


def check_classes(categories: dict, metainfo: dict, path: str,
                  order_matters: bool) -> List[Problem]:
    """The config's ``classes`` / ``thing_classes`` against the JSON.

    Args:
        categories (dict): Category id to category dict.
        metainfo (dict): The dataset's metainfo.
        path (str): The JSON, for messages.
        order_matters (bool): The dataset labels categories in JSON order
            (mmdet's ``CocoPanopticDataset``) rather than metainfo order.
    """
    problems = []
    by_name = {c['name']: c for c in categories.values()}
    things = set(metainfo.get('thing_classes', ()))
    classes = list(metainfo.get('classes', ()))
    for name in classes:
        cat = by_name.get(name)
        if cat is None:
            problems.append(Problem(
                'class-not-in-json', path,
                f'class {name!r} of metainfo.classes is not a category '
                f'name of the JSON'))
        elif bool(cat['isthing']) != (name in things):
            problems.append(Problem(
                'class-thing-mismatch', path,
                f'class {name!r}: metainfo says '
                f'{"thing" if name in things else "stuff"}, the JSON '
                f'says isthing={cat["isthing"]}'))
    if order_matters and not problems:
        in_json = [c['name'] for c in categories.values()
                   if c['name'] in set(classes)]
        if in_json != classes:
            first = next(i for i, (a, b) in enumerate(zip(in_json, classes))
                         if a != b)
            problems.append(Problem(
                'class-order', path,
                f'label {first} would be {in_json[first]!r} (JSON order) '
                f'but metainfo.classes[{first}] is {classes[first]!r}'))
    return problems


def _short(value, limit=80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _segment_problems(seg, i, image_id, categories, path) -> List[Problem]:
    """Field problems of one ``segments_info`` entry."""
    if not isinstance(seg, dict):
        return [Problem('segment-field', path,
                        f'segments_info[{i}] is {_short(seg)}, not a dict',
                        image_id)]
    seg_id = seg.get('id')
    problems = []
    if not _is_int(seg_id):
        return [Problem('segment-field', path,
                        f'segments_info[{i}] has id {_short(seg_id)}, not '
                        f'an int', image_id)]
    if not 0 < seg_id < MAX_ID:
        problems.append(Problem(
            'segment-id-range', path,
            f'id {seg_id} is outside [1, {MAX_ID})', image_id, seg_id))
    cat_id = seg.get('category_id')
    if not _is_int(cat_id) or cat_id not in categories:
        problems.append(Problem(
            'segment-unknown-category', path,
            f'category_id {_short(cat_id)} is not a category id '
            f'(known: {_id_range(categories)})', image_id, seg_id))
    bad = []
    if not _is_number(seg.get('area')) or seg['area'] < 0:
        bad.append(f'area {_short(seg.get("area"))}')
    bbox = seg.get('bbox')
    if not (isinstance(bbox, (list, tuple)) and len(bbox) == 4
            and all(_is_number(v) for v in bbox) and bbox[2] >= 0
            and bbox[3] >= 0):
        bad.append(f'bbox {_short(bbox)}')
    if seg.get('iscrowd', 0) not in (0, 1):
        bad.append(f'iscrowd {_short(seg.get("iscrowd"))}')
    if bad:
        problems.append(Problem('segment-field', path,
                                'bad ' + ', '.join(bad), image_id, seg_id))
    return problems


def _id_range(categories) -> str:
    ids = sorted(categories, key=str)
    return ', '.join(map(str, ids)) if len(ids) <= 8 else \
        f'{len(ids)} ids from {ids[0]} to {ids[-1]}'


def check_annotations(
        data,
        path: str,
        metainfo: Optional[dict] = None,
        order_matters: bool = False
) -> Tuple[List[Problem], List[PixelTask], int]:
    """Check a loaded COCO panoptic JSON.

    Args:
        data: The parsed JSON.
        path (str): Its file, named in messages.
        metainfo (dict, optional): Check these classes against the JSON.
        order_matters (bool): See :func:`check_classes`.

    Returns:
        tuple: ``(problems, pixel_tasks, num_segments)``.
    """
    if not isinstance(data, dict):
        return [Problem('json-structure', path,
                        f'the top level is a {type(data).__name__}, not a '
                        'dict')], [], 0
    problems = []
    lists = {}
    for key in ('images', 'annotations', 'categories'):
        value = data.get(key)
        if not isinstance(value, list):
            problems.append(Problem(
                'json-structure', path,
                f'{key!r} is ' + ('missing' if value is None else
                                  f'a {type(value).__name__}, not a list')))
            value = []
        lists[key] = value
    categories, found = _check_categories(lists['categories'], path)
    problems += found
    if metainfo and metainfo.get('classes') and 'categories' in data:
        problems += check_classes(categories, metainfo, path, order_matters)

    images = {}
    for i, img in enumerate(lists['images']):
        if not isinstance(img, dict) or not _is_id(img.get('id')) or \
                not isinstance(img.get('file_name'), str) or not all(
                    _is_int(img.get(k)) and img[k] > 0
                    for k in ('height', 'width')):
            problems.append(Problem(
                'image-field', path,
                f'images[{i}] = {_short(img)}: needs id, file_name and '
                'positive int height, width',
                img.get('id') if isinstance(img, dict) else None))
            continue
        if img['id'] in images:
            problems.append(Problem(
                'image-duplicate-id', path,
                f'{images[img["id"]]["file_name"]!r} and '
                f'{img["file_name"]!r} both have this id', img['id']))
            continue
        images[img['id']] = img

    tasks, annotated, png_owner, num_segments = [], set(), {}, 0
    for i, ann in enumerate(lists['annotations']):
        if not isinstance(ann, dict) or not _is_id(ann.get('image_id')) or \
                not isinstance(ann.get('file_name'), str) or \
                not isinstance(ann.get('segments_info'), list):
            problems.append(Problem(
                'annotation-field', path,
                f'annotations[{i}] = {_short(ann)}: needs image_id, '
                'file_name and a segments_info list',
                ann.get('image_id') if isinstance(ann, dict) else None))
            continue
        image_id = ann['image_id']
        if image_id not in images:
            problems.append(Problem(
                'annotation-unknown-image', path,
                f'annotations[{i}] ({ann["file_name"]!r}) names an image '
                'id that no image has', image_id))
            continue
        if image_id in annotated:
            problems.append(Problem('annotation-duplicate', path,
                                    f'annotations[{i}] is a second entry',
                                    image_id))
            continue
        annotated.add(image_id)
        if ann['file_name'] in png_owner:
            problems.append(Problem(
                'png-shared', path,
                f'{ann["file_name"]!r} is also the PNG of image '
                f'{png_owner[ann["file_name"]]!r}', image_id))
        png_owner.setdefault(ann['file_name'], image_id)
        segments = ann['segments_info']
        num_segments += len(segments)
        if not segments:
            problems.append(Problem('image-empty', path,
                                    'segments_info is empty', image_id))
        seen, sound = Counter(), True
        for j, seg in enumerate(segments):
            found = _segment_problems(seg, j, image_id, categories, path)
            sound &= not any(p.kind == 'segment-field' for p in found)
            problems += found
            if isinstance(seg, dict) and _is_int(seg.get('id')):
                seen[seg['id']] += 1
        for seg_id, n in seen.items():
            if n > 1:
                cats = sorted({str(s.get('category_id')) for s in segments
                               if isinstance(s, dict)
                               and s.get('id') == seg_id})
                problems.append(Problem(
                    'segment-duplicate-id', path,
                    f'{n} segments have this id (categories '
                    f'{", ".join(cats)})', image_id, seg_id))
        if sound:
            img = images[image_id]
            tasks.append(PixelTask(image_id, img['file_name'],
                                   img['height'], img['width'],
                                   ann['file_name'], segments))
    if metainfo and metainfo.get('classes'):
        problems += _unlabelled_categories(lists['annotations'], categories,
                                           set(metainfo['classes']), path)
    for image_id, img in images.items():
        if image_id not in annotated:
            problems.append(Problem(
                'image-no-annotation', path,
                f'{img["file_name"]!r} has no entry in annotations',
                image_id))
    return problems, tasks, num_segments


def _unlabelled_categories(anns, categories, classes, path):
    """Categories used by segments but absent from the classes."""
    used = Counter()
    for ann in anns:
        segments = ann.get('segments_info') if isinstance(ann, dict) else []
        for seg in segments if isinstance(segments, list) else []:
            cat_id = seg.get('category_id') if isinstance(seg, dict) else None
            if _is_int(cat_id) and cat_id in categories and \
                    categories[cat_id]['name'] not in classes:
                used[cat_id] += 1
    return [Problem('category-not-a-class', path,
                    f'category {cat_id} ({categories[cat_id]["name"]!r}) has '
                    f'{n} segments') for cat_id, n in sorted(used.items())]
