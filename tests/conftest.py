import pytest

from panoptic_zoo.utils import register_all_modules


@pytest.fixture(scope='session', autouse=True)
def _registered():
    register_all_modules()


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory):
    """A small built-in dataset (COCO panoptic layout), made once."""
    from panoptic_zoo.datasets import make_synthetic_dataset
    root = tmp_path_factory.mktemp('data') / 'synthetic'
    make_synthetic_dataset(root, num_train=16, num_val=6, size=128, seed=3)
    return str(root)
