"""One colour per class, told apart at a glance.

A dataset's own palette is kept (COCO's panoptic colours for COCO), except
that a class whose colour is too close to an earlier class's (CIE Lab
distance below :data:`MIN_DISTANCE`) gets the first colour of a fixed list
that is far from every colour chosen so far: two pinkish reds for circle
and square become red and blue. Classes without a colour get one the same
way. The result depends only on the classes and the given palette.
"""
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

Color = Tuple[int, int, int]

# CIE76 distance under which two class colours read as "the same colour".
MIN_DISTANCE = 40.0

# Well-separated colours, tried in order (Kelly's 22 colours of maximum
# contrast, without white and black, which the overlays use for lines).
CANDIDATES: List[Color] = [
    (230, 25, 75), (60, 180, 75), (0, 130, 200), (255, 225, 25),
    (245, 130, 48), (145, 30, 180), (70, 240, 240), (240, 50, 230),
    (210, 245, 60), (250, 190, 212), (0, 128, 128), (220, 190, 255),
    (170, 110, 40), (255, 250, 200), (128, 0, 0), (170, 255, 195),
    (128, 128, 0), (255, 215, 180), (0, 0, 128), (128, 128, 128)
]


def _lab(colors: Sequence[Color]) -> np.ndarray:
    rgb = np.asarray(colors, np.float32).reshape(-1, 1, 3) / 255.0
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab).reshape(-1, 3)


def _hsv_color(k: int) -> Color:
    """The ``k``-th colour of a golden-ratio walk around the hue circle,
    for when the candidate list runs out."""
    hue = (k * 0.618033988749895) % 1.0
    value = (0.95, 0.75, 0.55)[k % 3]
    hsv = np.array([[[hue * 360, 0.85, value]]], np.float32)
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0] * 255
    return tuple(int(round(c)) for c in rgb)


def _far(color: Color, others: Sequence[Color], min_distance: float) -> bool:
    if not others or min_distance <= 0:
        return True
    dist = np.linalg.norm(_lab(others) - _lab([color]), axis=1)
    return float(dist.min()) >= min_distance


def class_palette(num_classes: int,
                  palette: Optional[Sequence[Sequence[int]]] = None,
                  min_distance: float = MIN_DISTANCE) -> List[Color]:
    """``num_classes`` distinct (r, g, b) colours.

    The given colours are kept in class order while they are far from the
    ones kept before; each other class then gets the first candidate
    (:data:`CANDIDATES`, then a walk around the hue circle) far from every
    colour kept or chosen, so a replacement never collides with a class
    that kept its own colour.

    Args:
        num_classes (int): Number of classes (things + stuff).
        palette (sequence, optional): The dataset's colours, one per class
            (mmdet's ``metainfo['palette']``); may be short or missing.
        min_distance (float): Smallest Lab distance between two classes;
            0 keeps the given palette as it is.

    Returns:
        list[tuple[int, int, int]]: One colour per class.
    """
    given = [tuple(int(c) for c in color) for color in (palette or [])]
    chosen: List[Optional[Color]] = [None] * num_classes
    for i in range(min(num_classes, len(given))):
        kept = [c for c in chosen[:i] if c is not None]
        if _far(given[i], kept, min_distance):
            chosen[i] = given[i]
    spare = iter(CANDIDATES)
    walk = 0
    for i in range(num_classes):
        if chosen[i] is not None:
            continue
        taken = [c for c in chosen if c is not None]
        while True:
            color = next(spare, None)
            if color is None:  # candidates used up: walk the hue circle
                color, walk = _hsv_color(walk), walk + 1
            # Too many classes to keep them all apart: accept the colour.
            if _far(color, taken, min_distance) or walk > 4 * num_classes:
                break
        chosen[i] = color
    return chosen


def instance_shade(color: Color, instance_id: int) -> Color:
    """Colour of thing instance ``instance_id`` (1, 2, ...) of a class:
    the class colour made lighter or darker by a step that changes with the
    id, so that touching instances of one class differ but stay of its
    hue."""
    steps = (0.0, 0.35, -0.35, 0.2, -0.2, 0.5, -0.5)
    t = steps[instance_id % len(steps)]
    c = np.asarray(color, np.float32)
    out = c + t * (255.0 - c) if t > 0 else c * (1.0 + t)
    return tuple(int(round(v)) for v in out)


def text_color(background: Color) -> Color:
    """Black or white, whichever reads better on ``background``."""
    r, g, b = background
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 140 else (255,
                                                                      255,
                                                                      255)
