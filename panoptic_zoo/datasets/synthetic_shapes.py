"""Vectorised raster helpers for the synthetic panoptic dataset.

Everything here is pure numpy. Shapes are rasterised by testing a pixel
coordinate grid against analytic inequalities and textures are closed-form
functions of that grid, so an image costs a few dozen array operations and
no per-pixel Python loop. All randomness comes from the ``rng`` argument,
which keeps the output a pure function of the caller's seed.
"""
import math

import numpy as np

#: Thing shapes, in category order.
SHAPE_NAMES = ('circle', 'square', 'triangle', 'cross')

#: Stuff textures, in category order.
TEXTURE_NAMES = ('grass', 'stripes', 'checker')

#: How far any shape reaches from its centre, in units of its radius
#: (square half-diagonal 1.10, triangle circumradius 1.15, cross arm 0.95).
SHAPE_REACH = 1.2

# Mean colour of grass before jitter; green-ish so the class has a typical
# colour like real grass, while its per-pixel noise is what identifies it.
_GRASS_RGB = (85.0, 145.0, 60.0)


def _grid(size, y0=0, y1=None, x0=0, x1=None):
    """Return broadcastable float32 row/column coordinates of a window."""
    y1 = size if y1 is None else y1
    x1 = size if x1 is None else x1
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    xs = np.arange(x0, x1, dtype=np.float32)[None, :]
    return ys, xs


def shape_mask(name, cy, cx, radius, angle, size):
    """Rasterise one thing shape.

    Args:
        name (str): One of :data:`SHAPE_NAMES`.
        cy (float): Centre row in pixels.
        cx (float): Centre column in pixels.
        radius (float): Nominal radius in pixels. Every shape spans about
            ``2 * radius`` so that sizes are comparable across classes.
        angle (float): Rotation in radians.
        size (int): Side of the square image.

    Returns:
        np.ndarray: ``(size, size)`` bool mask of the shape.
    """
    # Only the shape's bounding window is evaluated; the rest stays False.
    reach = SHAPE_REACH * radius + 1
    y0, y1 = max(int(cy - reach), 0), min(int(cy + reach) + 2, size)
    x0, x1 = max(int(cx - reach), 0), min(int(cx + reach) + 2, size)
    ys, xs = _grid(size, y0, y1, x0, x1)
    dy, dx = ys - cy, xs - cx
    cos, sin = math.cos(angle), math.sin(angle)
    u = dx * cos + dy * sin
    v = dy * cos - dx * sin
    if name == 'circle':
        win = u * u + v * v <= radius * radius
    elif name == 'square':
        half = 0.78 * radius
        win = (np.abs(u) <= half) & (np.abs(v) <= half)
    elif name == 'triangle':
        # Equilateral: inside all three edges, each at the apothem (half
        # the circumradius) from the centre.
        apothem = 0.5 * 1.15 * radius
        win = np.ones((y1 - y0, x1 - x0), dtype=bool)
        for k in range(3):
            a = math.pi / 2 + 2 * math.pi * k / 3
            win &= u * math.cos(a) + v * math.sin(a) <= apothem
    elif name == 'cross':
        arm, half_w = 0.95 * radius, 0.32 * radius
        au, av = np.abs(u), np.abs(v)
        win = ((au <= arm) & (av <= half_w)) | ((au <= half_w) & (av <= arm))
    else:
        raise ValueError(f'unknown shape {name!r}; expected {SHAPE_NAMES}')
    mask = np.zeros((size, size), dtype=bool)
    mask[y0:y1, x0:x1] = win
    return mask


def ellipse_mask(cy, cx, ry, rx, angle, size):
    """Rasterise a filled rotated ellipse (used for VOID blotches).

    Args:
        cy (float): Centre row.
        cx (float): Centre column.
        ry (float): Semi-axis along the rotated rows.
        rx (float): Semi-axis along the rotated columns.
        angle (float): Rotation in radians.
        size (int): Side of the square image.

    Returns:
        np.ndarray: ``(size, size)`` bool mask.
    """
    ys, xs = _grid(size)
    dy, dx = ys - cy, xs - cx
    cos, sin = math.cos(angle), math.sin(angle)
    u = (dx * cos + dy * sin) / rx
    v = (dy * cos - dx * sin) / ry
    return u * u + v * v <= 1.0


def smooth_field(rng, size, wavelength, n_waves=3):
    """Low-frequency noise in ``[-1, 1]``: a sum of random plane waves.

    Cheaper than upsampled noise and exactly reproducible, which is all the
    region boundaries and grass shading need.

    Args:
        rng (np.random.Generator): Source of randomness.
        size (int): Side of the square image.
        wavelength (float): Typical wavelength in pixels.
        n_waves (int): Number of superposed waves.

    Returns:
        np.ndarray: ``(size, size)`` float32 field.
    """
    ys, xs = _grid(size)
    field = np.zeros((size, size), dtype=np.float32)
    for _ in range(n_waves):
        theta = rng.uniform(0, 2 * math.pi)
        lam = wavelength * rng.uniform(0.7, 1.3)
        phase = rng.uniform(0, 2 * math.pi)
        k = 2 * math.pi / lam
        field += np.sin(
            xs * (k * math.cos(theta)) + ys * (k * math.sin(theta)) + phase)
    return field / n_waves


def partition(rng, size, num_regions):
    """Split the image into blobby regions: a warped Voronoi diagram.

    Args:
        rng (np.random.Generator): Source of randomness.
        size (int): Side of the square image.
        num_regions (int): Number of regions (cells).

    Returns:
        np.ndarray: ``(size, size)`` int array of region indices.
    """
    # Well-separated sites keep every region reasonably large.
    for _ in range(20):
        sites = rng.uniform(0.1 * size, 0.9 * size, (num_regions, 2))
        gaps = np.linalg.norm(sites[:, None] - sites[None], axis=-1)
        if gaps[np.triu_indices(num_regions, 1)].min() >= 0.35 * size:
            break
    ys, xs = _grid(size)
    # Warping the coordinates makes boundaries meander like real stuff
    # borders instead of being straight Voronoi edges.
    amp = 0.1 * size
    wy = ys + amp * smooth_field(rng, size, 0.7 * size, 2)
    wx = xs + amp * smooth_field(rng, size, 0.7 * size, 2)
    dist = np.stack([(wy - sy)**2 + (wx - sx)**2 for sy, sx in sites])
    return np.argmin(dist, axis=0)


def _second_color(color):
    """Return a colour that contrasts with ``color`` (for two-tone
    textures): darker for bright colours, lighter for dark ones."""
    if color.mean() > 110:
        return color * 0.35
    return color + (255 - color) * 0.6


def texture(name, rng, size):
    """Render a full-image stuff texture with random colour jitter.

    Args:
        name (str): One of :data:`TEXTURE_NAMES`.
        rng (np.random.Generator): Source of randomness.
        size (int): Side of the square image.

    Returns:
        np.ndarray: ``(size, size, 3)`` float32 image, not yet clipped.
    """
    scale = size / 320
    ys, xs = _grid(size)
    if name == 'grass':
        base = np.clip(np.array(_GRASS_RGB) + rng.uniform(-35, 35, 3), 0,
                       255).astype(np.float32)
        # Luminance noise (shared by the channels) is what reads as grass.
        lum = 22 * rng.standard_normal((size, size, 1), dtype=np.float32)
        lum += 18 * smooth_field(rng, size, 90 * scale)[..., None]
        img = base + lum
    elif name in ('stripes', 'checker'):
        c1 = rng.uniform(0, 255, 3).astype(np.float32)
        c2 = _second_color(c1)
        period = max(rng.uniform(8, 18) * scale, 4.0)
        theta = rng.uniform(0, math.pi)
        u = xs * math.cos(theta) + ys * math.sin(theta)
        if name == 'stripes':
            phase = rng.uniform(0, 2 * math.pi)
            on = np.sin(u * (2 * math.pi / period) + phase) > 0
        else:
            v = ys * math.cos(theta) - xs * math.sin(theta)
            on = (np.floor(u / period) + np.floor(v / period)) % 2 == 0
        img = np.where(on[..., None], c1, c2)
    else:
        raise ValueError(f'unknown texture {name!r}; expected '
                         f'{TEXTURE_NAMES}')
    # Mild chroma noise everywhere so no class is perfectly flat.
    img = img + 5 * rng.standard_normal((size, size, 3), dtype=np.float32)
    return img.astype(np.float32)


def contrasting_color(rng, under, min_dist=90.0, tries=12):
    """Draw a random colour far enough from the background under a shape.

    Colour is uniform over RGB for every class, so it never identifies the
    class; it only has to stand out from what it covers.

    Args:
        rng (np.random.Generator): Source of randomness.
        under (np.ndarray): Mean RGB of the pixels about to be covered.
        min_dist (float): Required Euclidean RGB distance.
        tries (int): Draws before settling for the farthest one.

    Returns:
        np.ndarray: float32 RGB colour.
    """
    best, best_dist = None, -1.0
    for _ in range(tries):
        color = rng.integers(0, 256, 3).astype(np.float32)
        dist = float(np.linalg.norm(color - under))
        if dist >= min_dist:
            return color
        if dist > best_dist:
            best, best_dist = color, dist
    return best


def paint(canvas, mask, color, rng, cy, cx, radius):
    """Fill ``mask`` on ``canvas`` in place with a lightly shaded colour.

    A random linear shading gradient plus faint noise keeps fills from
    being perfectly flat without hiding the silhouette.

    Args:
        canvas (np.ndarray): ``(H, W, 3)`` float32 image, edited in place.
        mask (np.ndarray): ``(H, W)`` bool mask to fill.
        color (np.ndarray): Base RGB colour.
        rng (np.random.Generator): Source of randomness.
        cy (float): Shape centre row (origin of the gradient).
        cx (float): Shape centre column.
        radius (float): Shape radius (normalises the gradient).
    """
    rows, cols = np.nonzero(mask)
    gy, gx = rng.uniform(-15, 15, 2)
    shade = (gy * (rows - cy) + gx * (cols - cx)) / max(radius, 1.0)
    noise = 4 * rng.standard_normal((rows.size, 3), dtype=np.float32)
    canvas[rows, cols] = color + shade[:, None].astype(np.float32) + noise
