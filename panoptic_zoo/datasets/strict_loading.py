"""mmdet's ``LoadPanopticAnnotations`` with named errors, registered under
the same name in the ``panoptic_zoo`` scope.

The pre-run check reads only the JSON; what only the pixels show (a
missing or broken PNG, a PNG of another size than its image, ids that the
PNG and ``segments_info`` do not share) would otherwise surface as a
``cv2.error`` or ``cannot reshape`` in a loader worker, or not at all: a
segment without pixels trains an empty mask, pixels without segment are
silently ignored. Each now stops with the file, image id, segment id and
the fix. Valid data loads exactly as with mmdet's transform.
"""
import numpy as np
from mmdet.datasets.transforms import \
    LoadPanopticAnnotations as MMDetLoadPanopticAnnotations

from panoptic_zoo.registry import TRANSFORMS

_FULL_CHECK = 'run `panoptic-zoo check-data ROOT` to list every problem'


class DataError(ValueError):
    """A sample's files contradict its annotation."""


@TRANSFORMS.register_module(name='LoadPanopticAnnotations')
class LoadPanopticAnnotations(MMDetLoadPanopticAnnotations):
    """``LoadPanopticAnnotations`` that names what is wrong with a PNG."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # mmdet decodes with panopticapi's rgb2id, an attribute: checking
        # there sees the decoded PNG without decoding it twice.
        self._rgb2id, self.rgb2id = self.rgb2id, self._checked_rgb2id
        self._results = None

    def _load_masks_and_semantic_segs(self, results: dict) -> None:
        path = results.get('seg_map_path')
        if path is None:
            return super()._load_masks_and_semantic_segs(results)
        self._results = results
        try:
            super()._load_masks_and_semantic_segs(results)
        except DataError:
            raise
        except FileNotFoundError:
            raise DataError(self._where() + 'the panoptic PNG does not '
                            'exist; restore it or fix the annotation '
                            f'file_name ({_FULL_CHECK})') from None
        except Exception as e:  # cv2 / numpy errors of a broken file
            raise DataError(self._where() + 'the panoptic PNG cannot be '
                            f'decoded ({type(e).__name__}: {e}); restore it '
                            f'({_FULL_CHECK})') from None
        finally:
            self._results = None

    def _where(self) -> str:
        r = self._results
        return f'{r["seg_map_path"]} (image {r.get("img_id")!r}): '

    def _checked_rgb2id(self, png) -> np.ndarray:
        if png is None or png.ndim != 3 or png.shape[-1] != 3:
            raise DataError(self._where() + 'the panoptic PNG cannot be '
                            f'decoded as RGB; restore it ({_FULL_CHECK})')
        ids = self._rgb2id(png)
        results = self._results
        shape = tuple(results['ori_shape'])
        if ids.shape != shape:
            raise DataError(
                self._where() + f'the PNG is {ids.shape[0]}x{ids.shape[1]} '
                f'(HxW), its image {results.get("img_path")} '
                f'{shape[0]}x{shape[1]}; write the PNG at the image size '
                f'({_FULL_CHECK})')
        in_json = {s['id'] for s in results['segments_info']}
        in_png = set(np.unique(ids).tolist()) - {0}
        for seg_id in sorted(in_json - in_png)[:1]:
            raise DataError(
                self._where() + f'segment {seg_id} of segments_info has no '
                'pixel in the PNG; remove it or paint it '
                f'({_FULL_CHECK})')
        for seg_id in sorted(in_png - in_json)[:1]:
            raise DataError(
                self._where() + f'the PNG has pixels of segment {seg_id}, '
                'which segments_info lacks (or drops for its area/bbox); '
                f'add it or paint it 0 ({_FULL_CHECK})')
        return ids
