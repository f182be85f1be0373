"""convert two-channel: panopticapi's category + instance PNGs, made from
the built-in data, convert back to its segments (crowd flags aside: the
format has none); through the command line."""
import json

import numpy as np
import pytest
from PIL import Image

from panoptic_zoo.cli import main
from panoptic_zoo.datasets.check.pixels import read_png_ids


@pytest.fixture
def two_channel(synthetic_root, tmp_path):
    pan = json.load(open(f'{synthetic_root}/annotations/'
                         'panoptic_val2017.json'))
    src = tmp_path / 'val_2ch'
    src.mkdir()
    for ann in pan['annotations']:
        ids, _ = read_png_ids(f'{synthetic_root}/annotations/'
                              f'panoptic_val2017/{ann["file_name"]}')
        png = np.zeros(ids.shape + (3, ), np.uint8)
        for k, seg in enumerate(ann['segments_info']):
            png[ids == seg['id']] = (seg['category_id'], k, 0)
        Image.fromarray(png).save(src / ann['file_name'])
    images_json = tmp_path / 'images.json'
    images_json.write_text(json.dumps(dict(images=pan['images'],
                                           categories=pan['categories'])))
    return pan, src, images_json


def test_round_trip_through_the_command(two_channel, synthetic_root,
                                        tmp_path, capsys):
    pan, src, images_json = two_channel
    dst = tmp_path / 'out'
    assert main(['convert', 'two-channel', str(src), str(dst),
                 '--img-dir', f'{synthetic_root}/val2017',
                 '--images-json', str(images_json), '--jobs', '1']) == 0
    assert 'check-data: no error' in capsys.readouterr().out
    got = json.load(open(dst / 'panoptic_val_2ch.json'))
    by_image = {a['image_id']: a for a in got['annotations']}
    key = lambda s: (s['category_id'], s['area'], tuple(s['bbox']))  # noqa
    for want in pan['annotations']:
        assert sorted(map(key, by_image[want['image_id']]['segments_info'])
                      ) == sorted(map(key, want['segments_info']))


def test_unknown_category_is_named(two_channel, synthetic_root, tmp_path):
    pan, src, images_json = two_channel
    first = src / pan['annotations'][0]['file_name']
    png = np.asarray(Image.open(first)).copy()
    png[0, 0] = (42, 0, 0)
    Image.fromarray(png).save(first)
    from panoptic_zoo.datasets.convert import convert_two_channel
    with pytest.raises(ValueError, match=f'{first}: category 42'):
        convert_two_channel(str(src), str(images_json),
                            str(tmp_path / 'out'),
                            f'{synthetic_root}/val2017')
