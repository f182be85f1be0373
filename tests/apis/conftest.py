import pytest
import torch

from panoptic_zoo.testing import config_path

CONFIG = 'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'


@pytest.fixture(scope='session')
def tiny_checkpoint(tmp_path_factory):
    """(config path, checkpoint path) of a seeded, untrained tiny model
    saved as MMEngine saves one (``meta.dataset_meta``)."""
    from mmengine.config import Config

    from panoptic_zoo.datasets import SYNTHETIC_METAINFO
    from panoptic_zoo.registry import MODELS
    config = config_path(CONFIG)
    cfg = Config.fromfile(config)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    path = tmp_path_factory.mktemp('ckpt') / 'tiny.pth'
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=dict(SYNTHETIC_METAINFO))), path)
    return config, str(path)
