"""Draw panoptic maps as pictures: image | ground truth | prediction."""
from typing import Sequence, Tuple

import cv2
import numpy as np

from mmdet.evaluation.functional import INSTANCE_OFFSET

Color = Tuple[int, int, int]


def colorize_panoptic(pan: np.ndarray, palette: Sequence[Color],
                      num_classes: int) -> np.ndarray:
    """Colour a panoptic map: class colour, instances told apart by shade.

    Args:
        pan (np.ndarray): (H, W) ints ``label + instance_id * INSTANCE_OFFSET``;
            labels ``>= num_classes`` (mmdet's void) are drawn black.
        palette (sequence of (r, g, b)): One colour per class.
        num_classes (int): Number of classes (things + stuff).

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB picture with white segment borders.
    """
    labels = pan % INSTANCE_OFFSET
    inst = pan // INSTANCE_OFFSET
    lut = np.zeros((max(num_classes, int(labels.max()) + 1), 3), np.float32)
    lut[:num_classes] = np.asarray(palette[:num_classes], np.float32)
    out = lut[np.minimum(labels, len(lut) - 1)]
    out[labels >= num_classes] = 0
    # Shade each instance differently so touching instances stay apart.
    shade = 1.0 - 0.35 * ((inst * 37) % 7) / 6.0
    out *= np.where(inst > 0, shade, 1.0)[..., None]
    edges = np.zeros(pan.shape, bool)
    edges[:, 1:] |= pan[:, 1:] != pan[:, :-1]
    edges[1:, :] |= pan[1:, :] != pan[:-1, :]
    out[edges] = 255
    return out.astype(np.uint8)


def _label(panel: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((22, panel.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0),
                1, cv2.LINE_AA)
    return np.concatenate([bar, panel], axis=0)


def panoptic_grid(rows: Sequence[Tuple[np.ndarray, np.ndarray, np.ndarray]],
                  palette: Sequence[Color], num_classes: int,
                  alpha: float = 0.6) -> np.ndarray:
    """One row per image: the image, its ground truth, the prediction.

    Args:
        rows: ``(image (H, W, 3) uint8 RGB, gt_pan (H, W), pred_pan (H, W))``
            per image; the maps use mmdet's panoptic encoding.
        palette: One (r, g, b) per class.
        num_classes (int): Number of classes (things + stuff).
        alpha (float): Opacity of the colours over the image.

    Returns:
        np.ndarray: The grid, uint8 RGB; rows padded to the widest image.
    """
    if not rows:
        raise ValueError('panoptic_grid needs at least one image')
    drawn = []
    for image, gt, pred in rows:
        panels = [image]
        for pan in (gt, pred):
            color = colorize_panoptic(pan, palette, num_classes)
            panels.append((alpha * color + (1 - alpha) * image).astype(
                np.uint8))
        drawn.append(np.concatenate(panels, axis=1))
    width = max(r.shape[1] for r in drawn)
    drawn = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)),
                    constant_values=255) for r in drawn]
    grid = np.concatenate(drawn, axis=0)
    third = rows[0][0].shape[1]
    header = np.concatenate([
        _label(np.zeros((0, third, 3), np.uint8), t)
        for t in ('image', 'ground truth', 'prediction')
    ], axis=1)
    header = np.pad(header, ((0, 0), (0, width - header.shape[1]), (0, 0)),
                    constant_values=255)
    return np.concatenate([header, grid], axis=0)
