"""Cityscapes label table (cityscapesScripts ``helpers/labels.py``).

The converter and the dataset metainfo read this one table. Fields:
``(name, id, train_id, category, has_instances, ignore_in_eval, color)``.
"""
from collections import namedtuple

Label = namedtuple('Label', ['name', 'id', 'train_id', 'category',
                             'has_instances', 'ignore_in_eval', 'color'])

LABELS = (
    Label('unlabeled', 0, 255, 'void', False, True, (0, 0, 0)),
    Label('ego vehicle', 1, 255, 'void', False, True, (0, 0, 0)),
    Label('rectification border', 2, 255, 'void', False, True, (0, 0, 0)),
    Label('out of roi', 3, 255, 'void', False, True, (0, 0, 0)),
    Label('static', 4, 255, 'void', False, True, (0, 0, 0)),
    Label('dynamic', 5, 255, 'void', False, True, (111, 74, 0)),
    Label('ground', 6, 255, 'void', False, True, (81, 0, 81)),
    Label('road', 7, 0, 'flat', False, False, (128, 64, 128)),
    Label('sidewalk', 8, 1, 'flat', False, False, (244, 35, 232)),
    Label('parking', 9, 255, 'flat', False, True, (250, 170, 160)),
    Label('rail track', 10, 255, 'flat', False, True, (230, 150, 140)),
    Label('building', 11, 2, 'construction', False, False, (70, 70, 70)),
    Label('wall', 12, 3, 'construction', False, False, (102, 102, 156)),
    Label('fence', 13, 4, 'construction', False, False, (190, 153, 153)),
    Label('guard rail', 14, 255, 'construction', False, True,
          (180, 165, 180)),
    Label('bridge', 15, 255, 'construction', False, True, (150, 100, 100)),
    Label('tunnel', 16, 255, 'construction', False, True, (150, 120, 90)),
    Label('pole', 17, 5, 'object', False, False, (153, 153, 153)),
    Label('polegroup', 18, 255, 'object', False, True, (153, 153, 153)),
    Label('traffic light', 19, 6, 'object', False, False, (250, 170, 30)),
    Label('traffic sign', 20, 7, 'object', False, False, (220, 220, 0)),
    Label('vegetation', 21, 8, 'nature', False, False, (107, 142, 35)),
    Label('terrain', 22, 9, 'nature', False, False, (152, 251, 152)),
    Label('sky', 23, 10, 'sky', False, False, (70, 130, 180)),
    Label('person', 24, 11, 'human', True, False, (220, 20, 60)),
    Label('rider', 25, 12, 'human', True, False, (255, 0, 0)),
    Label('car', 26, 13, 'vehicle', True, False, (0, 0, 142)),
    Label('truck', 27, 14, 'vehicle', True, False, (0, 0, 70)),
    Label('bus', 28, 15, 'vehicle', True, False, (0, 60, 100)),
    Label('caravan', 29, 255, 'vehicle', True, True, (0, 0, 90)),
    Label('trailer', 30, 255, 'vehicle', True, True, (0, 0, 110)),
    Label('train', 31, 16, 'vehicle', True, False, (0, 80, 100)),
    Label('motorcycle', 32, 17, 'vehicle', True, False, (0, 0, 230)),
    Label('bicycle', 33, 18, 'vehicle', True, False, (119, 11, 32)),
    Label('license plate', -1, -1, 'vehicle', False, True, (0, 0, 142)),
)

ID_TO_LABEL = {label.id: label for label in LABELS}

#: The 19 evaluated labels, as the panoptic JSON lists them (by label id).
EVALUATED = tuple(label for label in LABELS if not label.ignore_in_eval)


def panoptic_categories(use_train_id: bool = False) -> list:
    """The ``categories`` of a Cityscapes panoptic JSON, as
    ``createPanopticImgs`` writes them."""
    return [
        dict(id=label.train_id if use_train_id else label.id,
             name=label.name, color=list(label.color),
             supercategory=label.category,
             isthing=int(label.has_instances)) for label in EVALUATED
    ]


_THINGS = [label for label in EVALUATED if label.has_instances]
_STUFF = [label for label in EVALUATED if not label.has_instances]

#: mmdet metainfo: things first (8), then stuff (11); label order.
CITYSCAPES_PANOPTIC_METAINFO = dict(
    classes=tuple(label.name for label in _THINGS + _STUFF),
    thing_classes=tuple(label.name for label in _THINGS),
    stuff_classes=tuple(label.name for label in _STUFF),
    palette=[label.color for label in _THINGS + _STUFF])
