"""mmdet's ``CocoPanopticDataset`` with three fixes, registered under the
same name in the ``panoptic_zoo`` scope (so every config gets it):

* labels follow ``metainfo['classes']`` (things first), not the order in
  which the JSON happens to list its categories: mmdet's label ``i`` is
  the i-th class *found in the JSON*, which silently swaps things and stuff
  for JSONs listed by id (Cityscapes, ADE20K);
* the PNG is the annotation's ``file_name`` (the COCO panoptic format),
  not the image name with ``jpg`` replaced by ``png``; bare Cityscapes
  image names are found in their city folder;
* a JSON that mmdet fails to parse is checked, and the error names the
  file, image and segment (the check-data report) instead of a
  ``KeyError: 99`` from deep inside.
"""
import os.path as osp

from mmdet.datasets import CocoPanopticDataset as MMDetCocoPanopticDataset
from mmdet.datasets.api_wrappers import COCOPanoptic

from panoptic_zoo.registry import DATASETS
from .check import DataCheckError, check_split, resolve_image


class MetainfoOrderCOCOPanoptic(COCOPanoptic):
    """``get_cat_ids(cat_names=...)`` in the order of the names given."""

    def get_cat_ids(self, cat_names=[], sup_names=[], cat_ids=[]):
        ids = super().get_cat_ids(cat_names, sup_names, cat_ids)
        if not cat_names:
            return ids
        by_name = {self.cats[i]['name']: i for i in ids}
        return [by_name[name] for name in cat_names if name in by_name]


@DATASETS.register_module(name='CocoPanopticDataset')
class CocoPanopticDataset(MMDetCocoPanopticDataset):
    """COCO panoptic, labelled in metainfo order, with named errors."""
    COCOAPI = MetainfoOrderCOCOPanoptic
    #: read by the pre-run check: JSON category order does not matter
    LABELS_IN_METAINFO_ORDER = True
    _png_of = None  # image id -> PNG file name, while loading

    def load_data_list(self):
        self._png_of = None
        try:
            return super().load_data_list()
        except Exception:
            report = check_split(self.ann_file, pixels=False,
                                 metainfo=self.metainfo)
            if not report.ok:
                raise DataCheckError(
                    [report], f'{type(self).__name__} cannot load '
                    f'{self.ann_file}') from None
            raise
        finally:
            self._png_of = None

    def parse_data_info(self, raw_data_info: dict) -> dict:
        info = super().parse_data_info(raw_data_info)
        img = raw_data_info['raw_img_info']
        info['img_path'] = resolve_image(self.data_prefix['img'],
                                         img['file_name'])
        if info.get('seg_map_path') is not None:
            if self._png_of is None:
                self._png_of = {
                    a['image_id']: a['file_name']
                    for a in self.coco.dataset.get('annotations', [])
                }
            png = self._png_of.get(img['img_id'])
            if png is not None:
                info['seg_map_path'] = osp.join(self.data_prefix['seg'], png)
        return info
