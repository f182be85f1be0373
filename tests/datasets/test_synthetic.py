"""Tests of the synthetic COCO panoptic dataset generator."""
import json
import re
from collections import Counter

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from panoptic_zoo.datasets import synthetic
from panoptic_zoo.datasets.synthetic import (SYNTHETIC_METAINFO,
                                             make_synthetic_dataset)

# Small enough to be fast, large enough that seed 0 has crowds and VOID.
NUM_TRAIN, NUM_VAL, SIZE, SEED = 24, 6, 128, 0
SPLITS = ('train', 'val')


def _load(root, split):
    """Return ``(panoptic json, instances json)`` of a split."""
    ann = root / 'annotations'
    pan = json.loads((ann / f'panoptic_{split}2017.json').read_text())
    ins = json.loads((ann / f'instances_{split}2017.json').read_text())
    return pan, ins


def _read_ids(png_path):
    """Decode a panoptic PNG into its id map (R + 256 G + 256^2 B)."""
    rgb = np.asarray(Image.open(png_path).convert('RGB'), dtype=np.int64)
    return rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]


def _tight_box(mask):
    """COCO [x, y, w, h] of a boolean mask, computed independently."""
    ys, xs = np.nonzero(mask)
    return [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
            int(ys.max() - ys.min() + 1)]


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    out = tmp_path_factory.mktemp('synthetic') / 'data'
    summary = make_synthetic_dataset(out, NUM_TRAIN, NUM_VAL, SIZE, SEED)
    assert summary['train']['num_images'] == NUM_TRAIN
    assert summary['val']['num_images'] == NUM_VAL
    return out


@pytest.fixture(scope='module')
def decoded(root):
    """Split -> list of (panoptic annotation, id map)."""
    result = {}
    for split in SPLITS:
        pan, _ = _load(root, split)
        seg_dir = root / 'annotations' / f'panoptic_{split}2017'
        result[split] = [(ann, _read_ids(seg_dir / ann['file_name']))
                         for ann in pan['annotations']]
    return result


def test_metainfo_matches_categories():
    cats = synthetic.SYNTHETIC_CATEGORIES
    things = [c['name'] for c in cats if c['isthing']]
    stuff = [c['name'] for c in cats if not c['isthing']]
    assert len(things) == 4 and len(stuff) == 3
    assert [c['id'] for c in cats] == list(range(1, 8))
    assert SYNTHETIC_METAINFO['thing_classes'] == tuple(things)
    assert SYNTHETIC_METAINFO['stuff_classes'] == tuple(stuff)
    # mmdet maps category -> label by position, so things must come first.
    assert SYNTHETIC_METAINFO['classes'] == tuple(things + stuff)
    by_name = {c['name']: tuple(c['color']) for c in cats}
    assert SYNTHETIC_METAINFO['palette'] == [
        by_name[n] for n in SYNTHETIC_METAINFO['classes']]


def test_layout_and_images(root):
    assert sorted(p.name for p in root.iterdir()) == [
        'annotations', 'train2017', 'val2017']
    assert sorted(p.name for p in (root / 'annotations').iterdir()) == [
        'instances_train2017.json', 'instances_val2017.json',
        'panoptic_train2017', 'panoptic_train2017.json',
        'panoptic_val2017', 'panoptic_val2017.json']
    all_ids = []
    for split, count in zip(SPLITS, (NUM_TRAIN, NUM_VAL)):
        pan, ins = _load(root, split)
        assert {'info', 'licenses', 'images', 'annotations',
                'categories'} <= set(pan)
        assert len(pan['images']) == count
        assert ins['images'] == pan['images']
        assert pan['categories'] == synthetic.SYNTHETIC_CATEGORIES
        assert [c['id'] for c in ins['categories']] == [1, 2, 3, 4]
        jpgs = sorted(p.name for p in (root / f'{split}2017').iterdir())
        assert jpgs == sorted(img['file_name'] for img in pan['images'])
        for img in pan['images']:
            assert img['file_name'] == f'{img["id"]:012d}.jpg'
            with Image.open(root / f'{split}2017' / img['file_name']) as im:
                assert im.format == 'JPEG' and im.mode == 'RGB'
                assert im.size == (SIZE, SIZE)
                assert (img['width'], img['height']) == (SIZE, SIZE)
        all_ids += [img['id'] for img in pan['images']]
        # mmdet derives the PNG name from the image name this way.
        assert [a['file_name'] for a in pan['annotations']] == [
            img['file_name'].replace('jpg', 'png') for img in pan['images']]
        assert [a['image_id'] for a in pan['annotations']] == [
            img['id'] for img in pan['images']]
    assert len(all_ids) == len(set(all_ids)) == NUM_TRAIN + NUM_VAL


@pytest.mark.parametrize('split', SPLITS)
def test_png_matches_segments_info(decoded, split):
    cats = {c['id']: c for c in synthetic.SYNTHETIC_CATEGORIES}
    for ann, ids in decoded[split]:
        infos = ann['segments_info']
        seg_ids = [s['id'] for s in infos]
        assert len(seg_ids) == len(set(seg_ids)) and 0 not in seg_ids
        assert set(np.unique(ids)) - {0} == set(seg_ids)
        for seg in infos:
            mask = ids == seg['id']
            assert seg['area'] == int(mask.sum()) > 0
            assert seg['bbox'] == _tight_box(mask)
            assert all(type(v) is int for v in seg['bbox'])
            assert seg['category_id'] in cats
            assert seg['iscrowd'] in (0, 1)
            if seg['iscrowd']:
                assert cats[seg['category_id']]['isthing'] == 1
        stuff = [s['category_id'] for s in infos
                 if not cats[s['category_id']]['isthing']]
        assert len(stuff) == len(set(stuff)), ann['file_name']
        # mmdet drops images without a thing instance from training.
        assert any(cats[s['category_id']]['isthing'] and not s['iscrowd']
                   for s in infos), ann['file_name']


def test_train_covers_classes_crowd_and_void(decoded):
    cat_counts = Counter(s['category_id'] for ann, _ in decoded['train']
                         for s in ann['segments_info'])
    assert set(cat_counts) == set(range(1, 8))
    num_crowd = sum(s['iscrowd'] for ann, _ in decoded['train']
                    for s in ann['segments_info'])
    assert num_crowd >= 1
    void = np.array([(ids == 0).mean() for _, ids in decoded['train']])
    # About half the images have VOID, and never more than a few percent.
    assert 0.2 <= (void > 0).mean() <= 0.8
    assert void.max() < 0.1


@pytest.mark.parametrize('split', SPLITS)
def test_instances_consistent_with_panoptic(root, decoded, split):
    _, ins = _load(root, split)
    ann_ids = [a['id'] for a in ins['annotations']]
    assert len(ann_ids) == len(set(ann_ids)) and 0 not in ann_ids
    by_image = {}
    for a in ins['annotations']:
        by_image.setdefault(a['image_id'], []).append(a)
    num_things = 0
    for ann, ids in decoded[split]:
        things = [s for s in ann['segments_info'] if s['category_id'] <= 4]
        insts = by_image.get(ann['image_id'], [])
        assert len(insts) == len(things)
        num_things += len(things)
        for inst in insts:
            mask = mask_utils.decode(inst['segmentation']).astype(bool)
            seg_ids = np.unique(ids[mask])
            assert len(seg_ids) == 1
            seg = next(s for s in things if s['id'] == seg_ids[0])
            assert np.array_equal(mask, ids == seg['id'])
            assert inst['area'] == seg['area'] == int(mask.sum())
            assert inst['bbox'] == seg['bbox']
            assert inst['category_id'] == seg['category_id']
            assert inst['iscrowd'] == seg['iscrowd']
    assert len(ins['annotations']) == num_things > 0


def _snapshot(root):
    """Relative path -> bytes of every JSON and PNG file under ``root``."""
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob('*'))
            if p.suffix in ('.json', '.png', '.jpg')}


def test_same_seed_is_byte_identical(root, tmp_path):
    again = tmp_path / 'again'
    make_synthetic_dataset(again, NUM_TRAIN, NUM_VAL, SIZE, SEED)
    first, second = _snapshot(root), _snapshot(again)
    assert len(first) == 2 * (NUM_TRAIN + NUM_VAL) + 4
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], name


def test_val_does_not_depend_on_train_count(root, tmp_path):
    other = tmp_path / 'other'
    make_synthetic_dataset(other, 3, NUM_VAL, SIZE, SEED)
    a, b = _snapshot(root), _snapshot(other)
    for name in a:
        if name.startswith(('val2017', 'annotations/panoptic_val2017')):
            assert a[name] == b[name], name


def test_different_seed_differs(root, tmp_path):
    other = tmp_path / 'other'
    make_synthetic_dataset(other, NUM_TRAIN, NUM_VAL, SIZE, SEED + 1)
    a, b = _snapshot(root), _snapshot(other)
    assert a.keys() == b.keys()
    pngs = [n for n in a if n.endswith('.png')]
    assert sum(a[n] != b[n] for n in pngs) == len(pngs)
    assert _load(root, 'train')[0] != _load(other, 'train')[0]


def test_non_empty_out_dir_raises(tmp_path):
    out = tmp_path / 'busy'
    out.mkdir()
    (out / 'keep.txt').write_text('mine')
    with pytest.raises(FileExistsError, match=re.escape(str(out))):
        make_synthetic_dataset(out, 2, 1, 64, 0)
    assert sorted(p.name for p in out.iterdir()) == ['keep.txt']
    assert sorted(p.name for p in tmp_path.iterdir()) == ['busy']


def test_overwrite_replaces_only_owned_files(tmp_path):
    out = tmp_path / 'data'
    make_synthetic_dataset(out, 2, 1, 64, seed=0)
    (out / 'keep.txt').write_text('mine')
    (out / 'train2017' / 'stale.jpg').write_bytes(b'old')
    make_synthetic_dataset(out, 3, 1, 64, seed=1, overwrite=True)
    assert (out / 'keep.txt').read_text() == 'mine'
    assert len(list((out / 'train2017').iterdir())) == 3
    assert not (out / 'train2017' / 'stale.jpg').exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ['data']


def test_empty_existing_out_dir_is_used(tmp_path):
    out = tmp_path / 'empty'
    out.mkdir()
    summary = make_synthetic_dataset(out, 2, 1, 64, 0)
    assert summary['val']['pan_json'] == str(
        out / 'annotations' / 'panoptic_val2017.json')
    assert (out / 'annotations' / 'panoptic_val2017.json').is_file()


def test_failed_run_leaves_nothing(tmp_path, monkeypatch):
    calls = []
    render = synthetic._render_image

    def flaky(rng, size):
        calls.append(size)
        if len(calls) == 3:
            raise RuntimeError('boom')
        return render(rng, size)

    monkeypatch.setattr(synthetic, '_render_image', flaky)
    with pytest.raises(RuntimeError, match='boom'):
        make_synthetic_dataset(tmp_path / 'data', 4, 1, 64, 0)
    assert len(calls) == 3
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize('kwargs', [
    dict(num_train=-1), dict(size=16), dict(seed=-3), dict(size=64.0)])
def test_bad_arguments_raise(tmp_path, kwargs):
    with pytest.raises((ValueError, TypeError)):
        make_synthetic_dataset(tmp_path / 'data', **kwargs)
    assert list(tmp_path.iterdir()) == []
