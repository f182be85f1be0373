"""PanopticInferencer and `panoptic-zoo infer` on the built-in dataset."""
import glob
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

from panoptic_zoo.apis import PanopticInferencer, expand_inputs, run_inference
from panoptic_zoo.cli import main
from panoptic_zoo.evaluation.pq_files import pq_compute, read_id_map


def _cfg(config):
    cfg = Config.fromfile(config)
    cfg.model.test_cfg.rcnn.score_thr = 0.05  # untrained: keep things
    cfg.model.test_cfg.rcnn.max_per_img = 10  # ... but few: a fast test
    return cfg


@pytest.fixture(scope='module')
def inferencer(tiny_checkpoint):
    config, ckpt = tiny_checkpoint
    return PanopticInferencer(_cfg(config), ckpt, device='cpu')


def _val_images(root):
    return sorted(glob.glob(osp.join(root, 'val2017', '*.jpg')))


def test_id_map_is_the_models_prediction(inferencer, synthetic_root):
    """Same image through the dataset's own test pipeline and model."""
    path = _val_images(synthetic_root)[0]
    result = inferencer(path)[0]
    pipeline = Compose([
        dict(type='mmdet.LoadImageFromFile'),
        *[s for s in inferencer.cfg.test_dataloader.dataset.pipeline[1:]
          if 'Annotations' not in s['type']]
    ])
    with torch.no_grad():
        sample = inferencer.model.test_step(
            pseudo_collate([pipeline(dict(img_path=path, img_id=0))]))[0]
    expected = sample.pred_panoptic_seg.sem_seg[0].numpy()
    np.testing.assert_array_equal(result.pan, expected)
    assert result.image.shape[:2] == result.pan.shape
    labels = {s['category'] for s in result.segments}
    assert labels <= set(inferencer.classes)
    assert any(s['isthing'] for s in result.segments)  # things predicted
    for s in result.segments:
        assert s['area'] == int((result.ids == s['id']).sum())
    assert result.overlay.shape[0] >= result.pan.shape[0]


def test_checkpoint_weights_are_loaded(tiny_checkpoint, inferencer):
    config, ckpt = tiny_checkpoint
    torch.manual_seed(123)  # a different initialisation ...
    unloaded = PanopticInferencer(_cfg(config), None, device='cpu')
    loaded = PanopticInferencer(_cfg(config), ckpt, device='cpu')
    key = 'backbone.conv1.weight'
    reference = inferencer.model.state_dict()[key]
    assert not torch.equal(unloaded.model.state_dict()[key], reference)
    assert torch.equal(loaded.model.state_dict()[key], reference)
    assert loaded.classes == list(inferencer.meta['classes'])


def test_round_trip_files_and_corrupt_input(inferencer, synthetic_root,
                                            tmp_path):
    images = tmp_path / 'in'
    images.mkdir()
    for path in _val_images(synthetic_root)[:3]:
        os.symlink(path, images / osp.basename(path))
    (images / 'broken.jpg').write_bytes(b'not a jpeg')
    out = tmp_path / 'out'
    messages = []
    summary = run_inference(inferencer, [str(images), str(tmp_path / 'no')],
                            str(out), batch_size=2, progress=False,
                            log=messages.append)
    assert len(summary['done']) == 3
    assert any('broken.jpg' in m for m in messages)
    assert any(str(tmp_path / 'no') in m for m in messages)
    pred = json.loads((out / 'panoptic.json').read_text())
    # category ids of the dataset (read from the config's GT JSON? the
    # config's data root is not this one: 1..N in class order)
    assert [c['name'] for c in pred['categories']] == inferencer.classes
    for ann in pred['annotations']:
        ids = read_id_map(str(out / 'panoptic' / ann['file_name'])).numpy()
        listed = {s['id']: s['area'] for s in ann['segments_info']}
        present, counts = np.unique(ids[ids > 0], return_counts=True)
        assert dict(zip(present.tolist(), counts.tolist())) == listed
        assert (out / 'overlays' / ann['file_name']).is_file()
    res = pq_compute(str(out / 'panoptic.json'), str(out / 'panoptic.json'),
                     str(out / 'panoptic'), str(out / 'panoptic'))
    assert res['All']['n'] > 0 and res['All']['pq'] == 1.0


def test_cli_exit_status_names_skipped(tiny_checkpoint, synthetic_root,
                                       tmp_path, capsys):
    config, ckpt = tiny_checkpoint
    bad = tmp_path / 'bad.png'
    bad.write_bytes(b'\x89PNG broken')
    good = _val_images(synthetic_root)[0]
    with pytest.raises(SystemExit) as exit_info:
        main(['infer', config, ckpt, good, str(bad), '--out',
              str(tmp_path / 'o'), '--device', 'cpu', '--quiet'])
    assert '1 input(s) skipped' in str(exit_info.value.code)
    assert f'skipped: {bad}' in capsys.readouterr().err
    assert (tmp_path / 'o' / 'panoptic.json').is_file()


@pytest.mark.slow
def test_video_in_video_out(inferencer, synthetic_root, tmp_path):
    frames = [cv2.imread(p) for p in _val_images(synthetic_root)[:3]]
    video = str(tmp_path / 'clip.mp4')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'), 5,
                             frames[0].shape[1::-1])
    for frame in frames:
        writer.write(frame)
    writer.release()
    out = tmp_path / 'out'
    summary = run_inference(inferencer, [video], str(out), progress=False)
    assert summary['done'] == [f'clip/{k:06d}' for k in range(3)]
    capture = cv2.VideoCapture(str(out / 'overlays' / 'clip.mp4'))
    count = 0
    while capture.read()[0]:
        count += 1
    assert count == 3
    pred = json.loads((out / 'panoptic.json').read_text())
    assert [a['file_name'] for a in pred['annotations']] == [
        f'clip/{k:06d}.png' for k in range(3)]


def test_expand_inputs(tmp_path):
    for name in ('b.jpg', 'a.png', 'notes.txt', 'v.mp4'):
        (tmp_path / name).write_bytes(b'x')
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'sub' / 'a.png').write_bytes(b'x')
    sources, problems = expand_inputs(
        [str(tmp_path), str(tmp_path / 'sub' / '*.png'),
         str(tmp_path / 'missing.jpg'), str(tmp_path / '*.gif')])
    assert [(osp.basename(s.path), s.kind, s.name) for s in sources] == [
        ('a.png', 'image', 'a'), ('b.jpg', 'image', 'b'),
        ('v.mp4', 'video', 'v'), ('a.png', 'image', 'a_1')]
    assert len(problems) == 2 and 'missing.jpg' in problems[0]
    assert 'matches no image' in problems[1]


def test_checkpoint_from_a_url(tiny_checkpoint, inferencer, tmp_path,
                               monkeypatch):
    """The download path MMEngine takes for http(s) checkpoints, served
    from this machine (no network)."""
    import functools
    import http.server
    import shutil
    import threading
    config, ckpt = tiny_checkpoint
    served = tmp_path / 'served'
    served.mkdir()
    shutil.copy(ckpt, served / 'tiny-0123abcd.pth')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))

    class Quiet(http.server.SimpleHTTPRequestHandler):

        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(served))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f'http://127.0.0.1:{server.server_port}/tiny-0123abcd.pth'
        loaded = PanopticInferencer(_cfg(config), url, device='cpu')
    finally:
        server.shutdown()
    key = 'backbone.conv1.weight'
    assert torch.equal(loaded.model.state_dict()[key],
                       inferencer.model.state_dict()[key])
    assert list((tmp_path / 'torch_home').rglob('tiny-0123abcd.pth'))


def test_a_zoo_config_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside the checkout
    inferencer = PanopticInferencer(
        'panoptic-fpn_r18-tiny_fpn_2k_synthetic', None, device='cpu')
    assert inferencer.cfg.model.type == 'PanopticSegmentor'
    assert inferencer.cfg.filename.endswith(
        'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py')
