"""The converted Cityscapes / ADE20K layouts load through their dataset
types and configs, evaluate GT against itself at PQ 100, and train."""
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from panoptic_zoo.datasets.convert import (convert_ade20k,
                                           convert_cityscapes)
from panoptic_zoo.datasets.synthetic_sources import (make_ade20k_source,
                                                     make_cityscapes_source)
from panoptic_zoo.engine.launch import set_data_root
from panoptic_zoo.evaluation.pq_files import pq_compute
from panoptic_zoo.registry import DATASETS
from panoptic_zoo.testing import config_path, tiny_synthetic_config

LAYOUTS = dict(
    cityscapes=(make_cityscapes_source, convert_cityscapes, (8, 11)),
    ade20k=(make_ade20k_source, convert_ade20k, (100, 50)))


@pytest.fixture(scope='module', params=sorted(LAYOUTS))
def converted(request, tmp_path_factory):
    make, convert, classes = LAYOUTS[request.param]
    root = tmp_path_factory.mktemp(request.param) / 'data'
    expected = make(root, num_train=4, num_val=2, size=96, seed=1)
    return request.param, str(root), convert(str(root)), expected, classes


def _base(layout, root):
    cfg = Config.fromfile(config_path(
        f'_base_/datasets/{layout}_panoptic_synthetic.py'))
    set_data_root(cfg, root)
    return cfg


def test_dataset_type_reads_the_converted_files(converted):
    layout, root, out, expected, (things, stuff) = converted
    cfg = _base(layout, root)
    dataset = DATASETS.build(dict(cfg.val_dataloader.dataset, pipeline=[]))
    meta = dataset.metainfo
    assert (len(meta['thing_classes']), len(meta['stuff_classes'])) == (
        things, stuff)
    assert len(dataset) == len(expected['val'])
    for i, want in enumerate(_expected_names(layout, expected['val'])):
        info = dataset.get_data_info(i)
        assert open(info['img_path'], 'rb').read(4)  # the file exists
        assert info['seg_map_path'].startswith(out['val'][1])
        labels = [s['category'] for s in info['segments_info']]
        assert sorted(meta['classes'][c] for c in labels) == sorted(want)
        # things are labels 0..things-1, stuff after them
        for seg in info['segments_info']:
            assert (seg['category'] < things) == (
                meta['classes'][seg['category']] in meta['thing_classes'])
            assert not seg['is_thing'] or seg['category'] < things


def _expected_names(layout, images):
    """Class names of each image's expected segments, in order."""
    if layout == 'cityscapes':
        from panoptic_zoo.datasets.convert.cityscapes_labels import \
            ID_TO_LABEL
        return [[ID_TO_LABEL[s['category_id']].name
                 for s in ann['segments_info']] for ann, _ in images]
    from panoptic_zoo.datasets.convert.ade20k_classes import \
        ADE20K_CATEGORIES
    return [[ADE20K_CATEGORIES[s['category_id']][0] for s in segments]
            for _, segments, _ in images]


def test_gt_against_itself_is_pq_100(converted):
    _, _, out, _, _ = converted
    ann_file, seg_dir, _ = out['val']
    res = pq_compute(ann_file, ann_file, seg_dir, seg_dir, workers=1)
    assert res['All']['pq'] == 1.0 and res['All']['n'] > 0


@pytest.mark.slow
def test_trains_and_evaluates(converted, tmp_path):
    layout, root, _, _, (things, stuff) = converted
    cfg = tiny_synthetic_config(root, str(tmp_path), max_iters=2)
    base = _base(layout, root)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.dataset = base[f'{split}_dataloader'].dataset
        loader.num_workers, loader.persistent_workers = 0, False
    cfg.val_evaluator = cfg.test_evaluator = base.val_evaluator
    model = cfg.model
    model.roi_head.bbox_head.num_classes = things
    model.roi_head.mask_head.num_classes = things
    for head in (model.semantic_head, model.panoptic_fusion_head):
        head.num_things_classes, head.num_stuff_classes = things, stuff
    cfg.custom_hooks = [h for h in cfg.custom_hooks
                        if h.type == 'ClassCheckHook']
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.val_loop.run()
    assert 0.0 <= metrics['coco_panoptic/PQ'] <= 100.0
