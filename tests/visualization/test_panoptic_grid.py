import numpy as np
import pytest
from mmdet.evaluation.functional import INSTANCE_OFFSET

from panoptic_zoo.visualization import colorize_panoptic, panoptic_grid

PALETTE = [(200, 0, 0), (0, 100, 0), (0, 0, 250)]


def test_colors_borders_and_void():
    pan = np.array([[1, 1, 3, 3],
                    [1, 1, 3, 3],
                    [2, 2, 2, 2]])  # 3 == num_classes: void
    pan[2] = 0 + 1 * INSTANCE_OFFSET  # instance 1 of class 0
    out = colorize_panoptic(pan, PALETTE, num_classes=3)
    np.testing.assert_array_equal(out[0, 0], PALETTE[1])  # interior pixel
    np.testing.assert_array_equal(out[0, 3], [0, 0, 0])  # void
    np.testing.assert_array_equal(out[0, 2], [255, 255, 255])  # border
    # instance 1 is its class colour, shaded: shade = 1 - .35 * (37 % 7) / 6
    shaded = np.floor(np.array(PALETTE[0]) * (1 - 0.35 * 2 / 6))
    np.testing.assert_array_equal(out[2, 1], [255, 255, 255])  # border row
    assert out.dtype == np.uint8 and out.shape == (3, 4, 3)
    pan2 = np.full((3, 3), INSTANCE_OFFSET)
    np.testing.assert_array_equal(
        colorize_panoptic(pan2, PALETTE, 3)[1, 1], shaded)


def test_grid_layout():
    image = np.zeros((10, 12, 3), np.uint8)
    pan = np.zeros((10, 12), np.int64)
    grid = panoptic_grid([(image, pan, pan), (image, pan, pan)], PALETTE, 3)
    assert grid.shape == (22 + 2 * (10 + 4), 36, 3)
    with pytest.raises(ValueError, match='at least one image'):
        panoptic_grid([], PALETTE, 3)
