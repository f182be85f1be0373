import json
import shutil
from pathlib import Path

import pytest


class Corruptible:
    """A fresh copy of a tiny built-in dataset, and helpers to break it."""

    def __init__(self, source: Path, root: Path):
        shutil.copytree(source, root)
        self.root = root
        self.ann_file = root / 'annotations' / 'panoptic_train2017.json'
        self.seg_dir = root / 'annotations' / 'panoptic_train2017'
        self.img_dir = root / 'train2017'
        self.data = json.loads(self.ann_file.read_text())

    def save(self):
        self.ann_file.write_text(json.dumps(self.data))

    def ann(self, i=0):
        return self.data['annotations'][i]

    def png(self, i=0) -> Path:
        return self.seg_dir / self.ann(i)['file_name']

    def image(self, i=0) -> Path:
        return self.img_dir / self.data['images'][i]['file_name']

    def check(self, **kwargs):
        from panoptic_zoo.datasets.check import check_split
        return check_split(str(self.ann_file), str(self.seg_dir),
                           str(self.img_dir), **kwargs)


@pytest.fixture(scope='session')
def tiny_root(tmp_path_factory):
    from panoptic_zoo.datasets.synthetic import make_synthetic_dataset
    root = tmp_path_factory.mktemp('check') / 'tiny'
    make_synthetic_dataset(root, num_train=4, num_val=2, size=64, seed=5)
    return root


@pytest.fixture
def broken(tiny_root, tmp_path):
    return Corruptible(tiny_root, tmp_path / 'copy')
