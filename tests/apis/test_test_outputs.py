"""`panoptic-zoo test --out --show-dir`."""
import glob
import os.path as osp

import pytest
from PIL import Image

from panoptic_zoo.cli import build_parser
from panoptic_zoo.engine.launch import test as run_test
from panoptic_zoo.evaluation.pq_files import pq_compute


@pytest.mark.slow
def test_out_reproduces_the_metric_and_show_dir_draws_each_image(
        tiny_checkpoint, synthetic_root, tmp_path):
    config, ckpt = tiny_checkpoint
    out, show = tmp_path / 'out', tmp_path / 'show'
    options = ['model.test_cfg.rcnn.score_thr=0.05',
               'model.test_cfg.rcnn.max_per_img=10',
               'test_dataloader.num_workers=0',
               'test_dataloader.persistent_workers=False', 'log_level=WARNING']
    args = build_parser(['test']).parse_args([
        'test', config, ckpt, '--data-root', synthetic_root, '--work-dir',
        str(tmp_path / 'work'), '--out', str(out), '--show-dir', str(show),
        '--cfg-options', *options])
    metrics = run_test(args)
    gt_json = f'{synthetic_root}/annotations/panoptic_val2017.json'
    res = pq_compute(gt_json, str(out / 'panoptic.json'),
                     f'{synthetic_root}/annotations/panoptic_val2017',
                     str(out / 'panoptic'))
    assert res['Things']['n'] == 4
    for key, name in (('PQ', 'All'), ('PQ_th', 'Things'), ('SQ_st',
                                                           'Stuff')):
        assert metrics[f'coco_panoptic/{key}'] == pytest.approx(
            100 * res[name][key[:2].lower()], abs=1e-9)
    pictures = sorted(glob.glob(str(show / '*.png')))
    images = sorted(glob.glob(f'{synthetic_root}/val2017/*.jpg'))
    assert [osp.basename(p)[:-4] for p in pictures] == [
        osp.basename(p)[:-4] for p in images]
    width, height = Image.open(pictures[0]).size
    assert width > 3 * 128 and height > 128  # 3 panels + legend, title
