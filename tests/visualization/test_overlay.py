import numpy as np
import pytest

from panoptic_zoo.datasets import SYNTHETIC_METAINFO
from panoptic_zoo.panoptic_png import INSTANCE_OFFSET
from panoptic_zoo.visualization import (class_palette, classes_present,
                                        draw_panoptic, instance_shade,
                                        panoptic_grid)
from panoptic_zoo.visualization.overlay import legend_swatches, _font_scale
from panoptic_zoo.visualization.palette import MIN_DISTANCE, _lab

CLASSES = ('circle', 'square', 'triangle', 'grass', 'sky')


def test_palette_separates_close_colours_and_keeps_far_ones():
    palette = class_palette(7, SYNTHETIC_METAINFO['palette'])
    assert palette == class_palette(7, SYNTHETIC_METAINFO['palette'])
    lab = _lab(palette)
    dist = np.linalg.norm(lab[:, None] - lab[None], axis=-1)
    assert dist[~np.eye(7, dtype=bool)].min() >= MIN_DISTANCE
    # circle keeps its colour; square (a darker red) is replaced
    assert palette[0] == (220, 20, 60)
    assert palette[1] != (119, 11, 32)
    far = [(255, 0, 0), (0, 0, 255)]
    assert class_palette(2, far) == far
    assert len(set(class_palette(60))) == 60  # no palette: still distinct


def _scene():
    """10x12 image: stuff 'grass' (3) left, 'sky' (4) right, one circle
    instance (label 0, id 1) 4x4 in the middle, void bottom row."""
    void = len(CLASSES)
    pan = np.full((10, 12), 3, np.int64)
    pan[:, 6:] = 4
    pan[3:7, 4:8] = 0 + 1 * INSTANCE_OFFSET
    pan[9, :] = void
    image = np.full((10, 12, 3), 100, np.uint8)
    return image, pan


def test_overlay_colours_at_known_pixels():
    image, pan = _scene()
    palette = [(200, 0, 0), (0, 0, 200), (0, 200, 0), (250, 250, 0),
               (0, 200, 250)]
    colors = class_palette(5, palette)
    out = draw_panoptic(image, pan, CLASSES, palette, alpha=0.5,
                        thing_alpha=0.5, labels=False)
    assert out.shape[0] >= 10 and out.shape[1] > 12  # legend on the right
    blend = lambda c: (0.5 * np.array(c) + 50).astype(np.uint8)  # noqa
    np.testing.assert_array_equal(out[1, 1], blend(colors[3]))  # grass
    np.testing.assert_array_equal(out[1, 10], blend(colors[4]))  # sky
    # inside the instance (not on its contour): shade of the class colour
    np.testing.assert_array_equal(out[4, 5],
                                  blend(instance_shade(colors[0], 1)))
    np.testing.assert_array_equal(out[3, 4], [255, 255, 255])  # contour
    np.testing.assert_array_equal(out[9, 0], [50, 50, 50])  # void: dimmed
    # by default things are more opaque (0.8) than stuff (0.55)
    out = draw_panoptic(image, pan, CLASSES, palette, labels=False)
    shade = np.array(instance_shade(colors[0], 1), np.float32)
    np.testing.assert_array_equal(
        out[4, 5], (0.8 * shade + 0.2 * 100).astype(np.uint8))
    np.testing.assert_array_equal(
        out[1, 1], (np.float32(0.55) * np.array(colors[3], np.float32) +
                    np.float32(0.45) * 100).astype(np.uint8))


def test_legend_lists_exactly_the_classes_present():
    image, pan = _scene()
    colors = class_palette(5)
    assert classes_present(pan, 5) == [0, 3, 4]
    out = draw_panoptic(image, pan, CLASSES, colors, labels=False)
    panel = out[:, 12:]
    spots, width, _ = legend_swatches([0, 3, 4], CLASSES, 10,
                                      _font_scale(pan.shape))
    assert panel.shape[1] == width
    # draw_panoptic pads the image when the legend is taller
    for label, x, y, size in spots:
        np.testing.assert_array_equal(
            out[y + size // 2, 12 + x + size // 2], colors[label])
    drawn = {tuple(out[y + size // 2, 12 + x + size // 2])
             for _, x, y, size in spots}
    assert drawn == {colors[0], colors[3], colors[4]}
    assert colors[1] not in {tuple(p) for p in panel.reshape(-1, 3)}


def test_instances_of_one_class_differ():
    a, b = instance_shade((200, 40, 40), 1), instance_shade((200, 40, 40), 2)
    assert a != b and a != (200, 40, 40)


def test_grid_has_one_legend_for_all_rows():
    image, pan = _scene()
    other = np.full_like(pan, 1)  # square everywhere
    grid = panoptic_grid([(image, pan, other)], CLASSES, None, labels=False)
    width = 3 * (12 + 4)
    assert grid.shape[1] > width
    colors = class_palette(5)
    panel = {tuple(p) for p in grid[:, width:].reshape(-1, 3)}
    assert {colors[0], colors[1], colors[3], colors[4]} <= panel
    assert colors[2] not in panel
    with pytest.raises(ValueError, match='at least one image'):
        panoptic_grid([], CLASSES)


def test_size_mismatch_is_named():
    image, pan = _scene()
    with pytest.raises(ValueError, match='same size'):
        draw_panoptic(image[:5], pan, CLASSES)
