"""Panoptic overlays a person can read.

Stuff is drawn in its class colour, each thing instance in a shade of its
class colour (:func:`~.palette.instance_shade`) with a contour and a label
(class name, and score when the model gives one); a legend to the right
lists the classes present. Void pixels show the image, dimmed. Used by
``infer``, ``test --show-dir``, ``show-data``, the training picture hook
and :class:`~panoptic_zoo.apis.PanopticInferencer`.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from panoptic_zoo.panoptic_png import INSTANCE_OFFSET
from .palette import Color, class_palette, instance_shade, text_color

FONT = cv2.FONT_HERSHEY_SIMPLEX


def classes_present(pan: np.ndarray, num_classes: int) -> List[int]:
    """Sorted labels (not void) that cover at least one pixel of ``pan``."""
    labels = np.unique(np.asarray(pan) % INSTANCE_OFFSET)
    return [int(x) for x in labels if x < num_classes]


def colorize(pan: np.ndarray, palette: Sequence[Color],
             num_classes: int) -> Tuple[np.ndarray, np.ndarray]:
    """Colour of every pixel of an mmdet panoptic map, and its void mask.

    Args:
        pan (np.ndarray): (H, W) ``label + instance_id * INSTANCE_OFFSET``.
        palette (sequence): One colour per class, already distinct.
        num_classes (int): Things + stuff; larger labels are void.

    Returns:
        tuple: ``(colors (H, W, 3) uint8, void (H, W) bool)``.
    """
    pan = np.asarray(pan, np.int64)
    values, inverse = np.unique(pan, return_inverse=True)
    lut = np.zeros((len(values), 3), np.uint8)
    void = np.zeros(len(values), bool)
    for k, value in enumerate(values.tolist()):
        label, inst = value % INSTANCE_OFFSET, value // INSTANCE_OFFSET
        if label >= num_classes:
            void[k] = True
            continue
        color = tuple(palette[label])
        lut[k] = instance_shade(color, inst) if inst else color
    inverse = inverse.reshape(pan.shape)
    return lut[inverse], void[inverse]


def _font_scale(shape: Tuple[int, int]) -> float:
    return float(np.clip(min(shape[:2]) / 700.0, 0.35, 0.9))


def _put_label(canvas: np.ndarray, text: str, x: int, y: int,
               background: Color, scale: float) -> None:
    """``text`` in a filled box just above (x, y), the top-left corner of
    an instance's box (inside it when there is no room above), kept inside
    the canvas, so the label hides as little of the instance as it can."""
    (w, h), base = cv2.getTextSize(text, FONT, scale, 1)
    height, width = canvas.shape[:2]
    box_h = h + base + 4
    y = y - box_h if y >= box_h else y
    x = int(np.clip(x, 0, max(width - w - 4, 0)))
    y = int(np.clip(y, 0, max(height - box_h, 0)))
    cv2.rectangle(canvas, (x, y), (x + w + 4, y + h + base + 4), background,
                  -1)
    cv2.putText(canvas, text, (x + 2, y + h + 2), FONT, scale,
                text_color(background), 1, cv2.LINE_AA)


def legend_swatches(labels: Sequence[int], classes: Sequence[str],
                    height: int, scale: float) -> Tuple[list, int, int]:
    """Where :func:`legend_panel` draws each class.

    Returns:
        tuple: ``([(label, x, y, size), ...], panel width, panel height)``;
        ``(x, y)`` is a swatch's top-left corner. Classes fill columns of
        as many rows as ``height`` holds.
    """
    row = int(round(30 * scale / 0.5))
    size = int(round(row * 0.7))
    pad = max(4, row // 4)
    text_w = max(
        cv2.getTextSize(text, FONT, scale, 1)[0][0]
        for text in [str(classes[i]) for i in labels] + ['(none)'])
    col_w = pad + size + pad + text_w + 2 * pad
    per_col = max(1, (height - 2 * pad) // row)
    cols = max(1, -(-len(labels) // per_col))
    spots = [(int(label), (k // per_col) * col_w + pad,
              pad + (k % per_col) * row, size)
             for k, label in enumerate(labels)]
    return spots, cols * col_w, max(height, row + 2 * pad)


def legend_panel(labels: Sequence[int], classes: Sequence[str],
                 palette: Sequence[Color], height: int,
                 scale: float) -> np.ndarray:
    """White panel listing ``labels`` as colour swatch + class name
    (layout: :func:`legend_swatches`).

    Returns:
        np.ndarray: (max(height, one row), W, 3) uint8 RGB.
    """
    spots, width, height = legend_swatches(labels, classes, height, scale)
    panel = np.full((height, width, 3), 255, np.uint8)
    if not spots:
        cv2.putText(panel, '(none)', (4, 4 + int(20 * scale / 0.5)), FONT,
                    scale, (90, 90, 90), 1, cv2.LINE_AA)
    for label, x, y, size in spots:
        corner = (x + size - 1, y + size - 1)
        cv2.rectangle(panel, (x, y), corner,
                      tuple(int(c) for c in palette[label]), -1)
        cv2.rectangle(panel, (x, y), corner, (60, 60, 60), 1)
        cv2.putText(panel, str(classes[label]),
                    (x + size + max(4, size // 3), y + size - 2), FONT, scale,
                    (0, 0, 0), 1, cv2.LINE_AA)
    return panel


def draw_panoptic(image: np.ndarray,
                  pan: np.ndarray,
                  classes: Sequence[str],
                  palette: Optional[Sequence[Sequence[int]]] = None,
                  *,
                  scores: Optional[Dict[int, float]] = None,
                  alpha: float = 0.55,
                  thing_alpha: float = 0.8,
                  labels: bool = True,
                  legend: bool = True,
                  distinct: bool = True) -> np.ndarray:
    """Overlay an mmdet panoptic map on its image.

    Args:
        image (np.ndarray): (H, W, 3) uint8 RGB.
        pan (np.ndarray): (H, W) ``label + instance_id * INSTANCE_OFFSET``
            (``label >= len(classes)`` is void).
        classes (sequence of str): Class names, label order.
        palette (sequence, optional): The dataset's colours; made distinct
            by :func:`~.palette.class_palette` unless ``distinct=False``.
        scores (dict, optional): Score of each thing instance id.
        alpha (float): Opacity of the stuff colours.
        thing_alpha (float): Opacity of the thing instance colours.
        labels (bool): Write class name (+ score) on each thing instance.
        legend (bool): Add the legend of the classes present on the right.

    Returns:
        np.ndarray: (H, W + legend width, 3) uint8 RGB.
    """
    image = np.asarray(image)
    pan = np.asarray(pan, np.int64)
    if image.shape[:2] != pan.shape:
        raise ValueError(f'image is {image.shape[:2]}, its panoptic map '
                         f'{pan.shape}: they must be the same size')
    num_classes = len(classes)
    colors = (class_palette(num_classes, palette) if distinct else
              [tuple(c) for c in palette])
    color, void = colorize(pan, colors, num_classes)
    # Things more opaque than stuff: their colour must read as their class
    # whatever the object's own colour; stuff keeps its texture visible.
    opacity = np.where(pan >= INSTANCE_OFFSET, thing_alpha,
                       alpha)[..., None].astype(np.float32)
    out = image.astype(np.float32) * (1 - opacity) + color * opacity
    out[void] = image[void] * 0.5  # void: the image, dimmed
    out = out.astype(np.uint8)
    scale = _font_scale(pan.shape)
    thickness = max(1, int(round(min(pan.shape) / 300)))
    things = np.unique(pan[(pan >= INSTANCE_OFFSET)
                           & (pan % INSTANCE_OFFSET < num_classes)])
    for value in things.tolist():
        mask = (pan == value).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, contours, -1, (255, 255, 255), thickness)
    if labels:
        for value in things.tolist():
            label, inst = value % INSTANCE_OFFSET, value // INSTANCE_OFFSET
            ys, xs = np.nonzero(pan == value)
            text = str(classes[label])
            if scores and inst in scores and scores[inst] is not None:
                text += f' {scores[inst]:.2f}'
            _put_label(out, text, int(xs.min()), int(ys.min()),
                       instance_shade(colors[label], inst), scale)
    if not legend:
        return out
    panel = legend_panel(
        classes_present(pan, num_classes), classes, colors, out.shape[0],
        scale)
    if panel.shape[0] > out.shape[0]:
        out = np.pad(out, ((0, panel.shape[0] - out.shape[0]), (0, 0),
                           (0, 0)), constant_values=255)
    return np.concatenate([out, panel], axis=1)
