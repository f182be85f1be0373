"""Build a benchmarked model from its config, randomly initialised.

Zoo models build in our scope (``panoptic_zoo``); the reference builds
with mmdet's registry in mmdet's scope, from mmdet's own config. Backbones
get ``init_cfg=None``: nothing is downloaded, every model starts from the
same kind of random weights (seeded).

Random weights score no detection above a trained model's threshold, so
inference would skip the mask head and fuse nothing. The speed phase sets
:data:`FULL_LOAD` (``test_cfg.rcnn.score_thr=0``): every model keeps its
``max_per_img`` best detections (100 in the zoo), the mask head and the
fusion work at full load, as ``_forward`` (100 masks) assumes. A
``--cfg-options`` value for the same key wins.
"""
import copy
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch import nn

from .zoo import ZooEntry

#: Config overrides of the speed phase, applied before the user's.
FULL_LOAD = {'model.test_cfg.rcnn.score_thr': 0.0}


def model_config(config: str, cfg_options: Optional[dict] = None) -> Config:
    """The ``model`` dict of ``config`` with :data:`FULL_LOAD` then
    ``cfg_options`` applied and the backbone's pretrained ``init_cfg``
    removed."""
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(dict(FULL_LOAD, **copy.deepcopy(cfg_options or {})))
    model = cfg.model
    model.backbone.init_cfg = None
    return model


def build_model(entry: ZooEntry,
                device: str,
                cfg_options: Optional[dict] = None,
                seed: int = 0) -> nn.Module:
    """Build, initialise (seeded) and move ``entry``'s model to ``device``.

    Args:
        entry (ZooEntry): The model; ``entry.reference`` builds mmdet's.
        device (str): ``'cpu'`` or ``'cuda'``.
        cfg_options (dict, optional): Overrides applied to the config
            (keys such as ``model.train_cfg.rcnn.sampler.num``).
        seed (int): Seed of the random initialisation.

    Returns:
        nn.Module: The model in train mode, with ``num_things_classes`` and
        ``num_stuff_classes`` (ours and mmdet's panoptic segmentors have
        both).
    """
    cfg = model_config(entry.config, cfg_options)
    torch.manual_seed(seed)
    if entry.reference:
        from mmdet.registry import MODELS as MMDET_MODELS
        with DefaultScope.overwrite_default_scope('mmdet'):
            model = MMDET_MODELS.build(cfg)
    else:
        from panoptic_zoo.registry import MODELS, SCOPE
        with DefaultScope.overwrite_default_scope(SCOPE):
            model = MODELS.build(cfg)
    model.init_weights()
    for key in ('num_things_classes', 'num_stuff_classes'):
        if not hasattr(model, key):
            raise TypeError(f'{entry.config}: {type(model).__name__} has no '
                            f'{key}: not a panoptic segmentor')
    return model.to(device).train()
