"""Fixed-seed outputs of every panoptic ``_synthetic`` config: the losses of
one training step and the panoptic maps of one prediction, on one fixed
batch and fixed random weights.

A refactor of the data path proves itself by giving these bit for bit:
``tests/data/behaviour_snapshot.npz`` holds them as measured before it
(``python -m panoptic_zoo.testing.behaviour OUT.npz`` writes them).
"""
import sys
from glob import glob
from pathlib import Path
from typing import Dict, List

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from panoptic_zoo.zoo_configs import CONFIG_ROOT

#: Small enough for a CPU test, large enough for the heads to see objects.
BATCH, HEIGHT, WIDTH, INSTANCES = 2, 96, 128, 3
#: Random weights score nothing above a trained threshold: keep every
#: detection so the mask head, the attention plugins and the fusion work.
OPTIONS = {
    'model.test_cfg.rcnn.score_thr': 0.0,
    'model.test_cfg.rcnn.max_per_img': 20,
    'model.backbone.init_cfg': None,
}


def panoptic_configs() -> List[str]:
    """Zoo config names (``<dir>/<file>.py``) of the panoptic
    ``_synthetic`` configs, sorted."""
    root = CONFIG_ROOT
    found = []
    for path in sorted(glob(str(root / '*' / '*_synthetic.py'))):
        cfg = Config.fromfile(path)
        if cfg.model.get('type') == 'PanopticSegmentor':
            found.append(str(Path(path).relative_to(root)))
    return found


def snapshot(relative: str) -> Dict[str, np.ndarray]:
    """``loss/<name>`` (float32 scalars) and ``pan/<i>`` (int32 maps) of
    one config."""
    from panoptic_zoo.benchmark.inputs import make_batch
    from panoptic_zoo.registry import MODELS, SCOPE
    cfg = Config.fromfile(str(CONFIG_ROOT / relative))
    cfg.merge_from_dict(OPTIONS)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope(SCOPE):
        model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    data = make_batch(model, BATCH, HEIGHT, WIDTH, INSTANCES, training=True)
    torch.manual_seed(1)  # the samplers' draws
    with torch.no_grad():
        losses = model(**data, mode='loss')
    out = {}
    for key, value in sorted(losses.items()):
        value = sum(value) if isinstance(value, list) else value
        out[f'loss/{key}'] = value.detach().float().numpy()
    model.eval()
    data = make_batch(model, BATCH, HEIGHT, WIDTH, INSTANCES, training=False)
    torch.manual_seed(2)
    with torch.no_grad():
        preds = model(**data, mode='predict')
    for i, pred in enumerate(preds):
        out[f'pan/{i}'] = pred.pred_panoptic_seg.sem_seg.numpy().astype(
            np.int32)
    return out


def snapshot_all() -> Dict[str, np.ndarray]:
    """:func:`snapshot` of every panoptic config, keys prefixed by it."""
    return {
        f'{config}:{key}': value
        for config in panoptic_configs()
        for key, value in snapshot(config).items()
    }


if __name__ == '__main__':
    from panoptic_zoo.utils import register_all_modules
    register_all_modules()
    np.savez_compressed(sys.argv[1], **snapshot_all())
