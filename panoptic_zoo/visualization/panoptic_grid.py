"""Contact sheets of panoptic overlays: one row per image, one legend.

``image | ground truth | prediction`` rows for the picture hook and
``test --show-dir``; ground-truth-only rows for ``show-data``.
"""
from typing import Optional, Sequence

import cv2
import numpy as np

from .overlay import (FONT, classes_present, draw_panoptic, legend_panel,
                      _font_scale)
from .palette import class_palette


def _titled(panel: np.ndarray, text: str, scale: float) -> np.ndarray:
    (_, h), base = cv2.getTextSize(text or ' ', FONT, scale, 1)
    bar = np.full((h + base + 8, panel.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (4, h + 4), FONT, scale, (0, 0, 0), 1,
                cv2.LINE_AA)
    return np.concatenate([bar, panel], axis=0)


def panoptic_grid(rows: Sequence[Sequence[np.ndarray]],
                  classes: Sequence[str],
                  palette: Optional[Sequence] = None,
                  *,
                  headers: Sequence[str] = ('image', 'ground truth',
                                            'prediction'),
                  titles: Optional[Sequence[str]] = None,
                  alpha: float = 0.55,
                  labels: bool = True) -> np.ndarray:
    """Rows of ``(image, pan_1, pan_2, ...)`` with one legend.

    Args:
        rows: Per image its (H, W, 3) uint8 RGB picture followed by any
            number of (H, W) mmdet panoptic maps (``label + instance_id *
            INSTANCE_OFFSET``) drawn over it.
        classes: Class names in label order.
        palette: The dataset's colours (made distinct, as in overlays).
        headers: Column names written above the first row.
        titles: Optional text above each row (e.g. its file and PQ).
        alpha: Opacity of the colours.
        labels: Write class names on thing instances.

    Returns:
        np.ndarray: uint8 RGB; rows padded to the widest, and the legend of
        every class present in any map on the right.
    """
    if not rows:
        raise ValueError('panoptic_grid needs at least one image')
    colors = class_palette(len(classes), palette)
    scale = _font_scale(rows[0][0].shape)
    drawn, present = [], set()
    for k, (image, *maps) in enumerate(rows):
        panels = [np.asarray(image, np.uint8)]
        for pan in maps:
            present.update(classes_present(pan, len(classes)))
            panels.append(
                draw_panoptic(image, pan, classes, colors, alpha=alpha,
                              labels=labels, legend=False, distinct=False))
        line = np.concatenate(
            [np.pad(p, ((0, 0), (0, 4), (0, 0)), constant_values=255)
             for p in panels], axis=1)
        if titles is not None:
            line = _titled(line, titles[k], scale)
        drawn.append(line)
    width = max(r.shape[1] for r in drawn)
    drawn = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)),
                    constant_values=255) for r in drawn]
    header = np.concatenate([
        _titled(np.zeros((0, p.shape[1] + 4, 3), np.uint8), h, scale)
        for p, h in zip(rows[0][:len(headers)], headers)
    ], axis=1)
    header = np.pad(header, ((0, 0), (0, width - header.shape[1]), (0, 0)),
                    constant_values=255)
    grid = np.concatenate([header] + drawn, axis=0)
    panel = legend_panel(sorted(present), classes, colors, grid.shape[0],
                         max(scale, 0.45))
    if panel.shape[0] > grid.shape[0]:
        grid = np.pad(grid, ((0, panel.shape[0] - grid.shape[0]), (0, 0),
                             (0, 0)), constant_values=255)
    return np.concatenate([grid, panel], axis=1)
