"""PQ from COCO panoptic files: panopticapi parity, its errors, the CLI."""
import argparse
import contextlib
import io
import json
import shutil

import cv2
import numpy as np
import pytest
import torch
from panopticapi.evaluation import pq_compute as reference_pq_compute
from PIL import Image

from panoptic_zoo.benchmark.pq import perturb_prediction, write_panoptic
from panoptic_zoo.evaluation import pq_files
from panoptic_zoo.panoptic_png import id2rgb

DEVICES = [
    'cpu',
    pytest.param(
        'cuda',
        marks=pytest.mark.skipif(
            not torch.cuda.is_available(), reason='needs CUDA'))
]


@pytest.fixture(scope='module')
def files(synthetic_root, tmp_path_factory):
    """GT of the built-in train split and perturbed predictions on disk,
    with panopticapi's result and printed table."""
    out = tmp_path_factory.mktemp('pq_files')
    ann = f'{synthetic_root}/annotations'
    with open(f'{ann}/panoptic_train2017.json') as f:
        gt_json = json.load(f)
    rng = np.random.default_rng(7)
    maps, segments = [], []
    for a in gt_json['annotations']:
        gt_map = pq_files.read_id_map(f'{ann}/panoptic_train2017/'
                                      f'{a["file_name"]}').numpy()
        pred, segs = perturb_prediction(rng, gt_map, a['segments_info'],
                                        gt_json['categories'])
        maps.append(pred)
        segments.append(segs)
    ids = [a['image_id'] for a in gt_json['annotations']]
    write_panoptic(
        str(out / 'pred.json'), str(out / 'pred'), ids, maps, segments,
        gt_json['categories'])
    with open(out / 'pred.json') as f:
        pred_json = json.load(f)
    args = (f'{ann}/panoptic_train2017.json', str(out / 'pred.json'),
            f'{ann}/panoptic_train2017', str(out / 'pred'))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        reference = reference_pq_compute(*args)
    return dict(
        args=args,
        out=out,
        pred_json=pred_json,
        reference=reference,
        printed=printed.getvalue())


@pytest.mark.parametrize('device', DEVICES)
def test_equals_panopticapi_to_the_bit(files, device):
    ours = pq_files.pq_compute(*files['args'], device=device, batch_size=5)
    assert ours == files['reference']
    for name in ('All', 'Things', 'Stuff'):
        assert ours[name]['n'] > 0
    assert ours['All']['pq'] < 1.0  # the perturbations did something


def test_threads_and_batches_do_not_change_a_bit(files):
    cv2_threads = cv2.getNumThreads()
    one = pq_files.pq_compute(*files['args'], workers=1, batch_size=3)
    three = pq_files.pq_compute(*files['args'], workers=3, batch_size=1)
    assert one == three == files['reference']
    assert cv2.getNumThreads() == cv2_threads  # switched off, then back


def test_gt_segment_with_id_0_is_refused(files, tmp_path):
    gt_json = json.loads(open(files['args'][0]).read())
    gt_json['annotations'][0]['segments_info'][0]['id'] = 0
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(gt_json))
    with pytest.raises(ValueError, match='segment has ID 0, which means'):
        pq_files.pq_compute(str(path), *files['args'][1:])


def test_cli_prints_panopticapi_table_and_writes_json(files, capsys):
    parser = argparse.ArgumentParser()
    pq_files.add_eval_pq_args(parser)
    gt_json, pred_json, gt_dir, pred_dir = files['args']
    out = files['out'] / 'result.json'
    args = parser.parse_args(
        [gt_json, gt_dir, pred_json, pred_dir, '--json',
         str(out)])
    pq_files.run_eval_pq(args)
    table = capsys.readouterr().out.strip()
    assert table in files['printed']
    assert table.splitlines()[0].split() == ['|', 'PQ', 'SQ', 'RQ', 'N']
    with open(out) as f:
        written = json.load(f)
    ref = files['reference']
    assert written['All'] == ref['All']  # full precision, not rounded
    assert {int(k): v for k, v in written['per_class'].items()} == \
        ref['per_class']


def _broken(files, tmp_path, edit):
    """A copy of the predictions with ``edit(pred_json, png_dir)`` done."""
    pred_dir = tmp_path / 'pred'
    shutil.copytree(files['args'][3], pred_dir)
    pred_json = json.loads(json.dumps(files['pred_json']))
    edit(pred_json, pred_dir)
    with open(tmp_path / 'pred.json', 'w') as f:
        json.dump(pred_json, f)
    return (files['args'][0], str(tmp_path / 'pred.json'), files['args'][2],
            str(pred_dir))


def _both_raise(args, match, error=KeyError):
    """Our pq_compute and panopticapi's fail with the same message."""
    with pytest.raises(error, match=match):
        pq_files.pq_compute(*args)
    with contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()), \
            pytest.raises(Exception, match=match):
        reference_pq_compute(*args)


def test_png_id_missing_from_json(files, tmp_path):

    def edit(pred_json, _):
        pred_json['annotations'][3]['segments_info'].pop()

    ann = files['pred_json']['annotations'][3]
    seg_id = ann['segments_info'][-1]['id']
    _both_raise(
        _broken(files, tmp_path, edit),
        f'In the image with ID {ann["image_id"]} segment with ID '
        f'{seg_id} is presented in PNG and not presented in JSON')


def test_json_segment_missing_from_png(files, tmp_path):

    def edit(pred_json, _):
        pred_json['annotations'][2]['segments_info'].append(
            dict(id=123, category_id=1))

    image_id = files['pred_json']['annotations'][2]['image_id']
    _both_raise(
        _broken(files, tmp_path, edit),
        rf'In the image with ID {image_id} the following segment '
        r'IDs \[123\] are presented in JSON and not presented in PNG')


def test_unknown_category(files, tmp_path):

    def edit(pred_json, _):
        pred_json['annotations'][1]['segments_info'][0]['category_id'] = 99

    ann = files['pred_json']['annotations'][1]
    _both_raise(
        _broken(files, tmp_path, edit),
        f'In the image with ID {ann["image_id"]} segment with ID '
        f'{ann["segments_info"][0]["id"]} has unknown category_id 99')


def test_missing_prediction_and_files(files, tmp_path):

    def drop(pred_json, _):
        del pred_json['annotations'][0]

    image_id = files['pred_json']['annotations'][0]['image_id']
    with pytest.raises(
            ValueError,
            match=f'no prediction for the image with id: '
            f'{image_id}'):
        pq_files.pq_compute(*_broken(files, tmp_path / 'a', drop))

    def remove_png(pred_json, png_dir):
        (png_dir / pred_json['annotations'][0]['file_name']).unlink()

    args = _broken(files, tmp_path / 'b', remove_png)
    with pytest.raises(FileNotFoundError, match=r'PNG file .*\.png does not'):
        pq_files.pq_compute(*args)
    gt_json, pred_json, gt_dir, pred_dir = args
    with pytest.raises(FileNotFoundError, match=f'Folder {gt_dir}x with '):
        pq_files.pq_compute(gt_json, pred_json, gt_dir + 'x', pred_dir)
    with pytest.raises(
            FileNotFoundError,
            match='prediction JSON file nope.json does not'):
        pq_files.pq_compute(gt_json, 'nope.json', gt_dir, pred_dir)


def test_malformed_inputs_name_the_file(files, tmp_path):
    gt_json, pred_json, gt_dir, pred_dir = files['args']
    bad = tmp_path / 'bad.json'
    bad.write_text('{"annotations": [')
    with pytest.raises(ValueError, match=f'{bad} is not valid JSON'):
        pq_files.pq_compute(gt_json, str(bad), gt_dir, pred_dir)
    png = tmp_path / 'broken.png'
    png.write_bytes(b'\x89PNG not really')
    with pytest.raises(ValueError, match=f'cannot read PNG file {png}'):
        pq_files.read_id_map(str(png))
    # The CLI turns such errors into one line and exit status 1.
    parser = argparse.ArgumentParser()
    pq_files.add_eval_pq_args(parser)
    with pytest.raises(SystemExit, match='eval-pq: error: .*bad.json'):
        pq_files.run_eval_pq(
            parser.parse_args([gt_json, gt_dir,
                               str(bad), pred_dir]))


def test_read_id_map_is_rgb2id(tmp_path):
    ids = np.array([[0, 1, 256, 65536], [16777215, 12345678, 7, 0]])
    Image.fromarray(id2rgb(ids)).save(tmp_path / 'ids.png')
    Image.fromarray(id2rgb(ids)).convert('RGBA').save(tmp_path / 'a.png')
    for name in ('ids.png', 'a.png'):
        assert pq_files.read_id_map(str(tmp_path / name)).tolist() == \
            ids.tolist()
