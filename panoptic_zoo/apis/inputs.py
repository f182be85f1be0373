"""What ``infer`` reads: image files, folders, glob patterns, videos.

:func:`expand_inputs` turns the command line's INPUTS into a list of
:class:`Source` (each an image or a video file, with a unique output name)
and a list of problems (a path that does not exist, a folder or pattern
with no picture); reading the pixels is left to the caller, which reports
an unreadable file and goes on.
"""
import glob
import os
import os.path as osp
from typing import Iterator, List, NamedTuple, Sequence, Tuple

import numpy as np

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp',
              '.ppm', '.pgm')
VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg',
              '.mpeg', '.wmv')


class Source(NamedTuple):
    """One input: ``kind`` is ``'image'`` or ``'video'``; ``name`` is the
    stem its outputs get (unique among all inputs)."""
    path: str
    kind: str
    name: str


def _kind(path: str) -> str:
    return 'video' if path.lower().endswith(VIDEO_EXTS) else 'image'


def _is_media(path: str) -> bool:
    return path.lower().endswith(IMAGE_EXTS + VIDEO_EXTS)


def expand_inputs(inputs: Sequence[str]) -> Tuple[List[Source], List[str]]:
    """Expand INPUTS in the order given; folders and patterns sorted.

    A folder gives its image and video files (not its sub-folders); a
    pattern with ``*``, ``?`` or ``[`` is a glob (``**`` recursive). A
    file is taken as it is (a video by its extension, else an image).

    Returns:
        tuple: ``(sources, problems)``; ``problems`` are one-line messages
        naming the input that gave nothing.
    """
    paths, problems = [], []
    for item in inputs:
        item = osp.expanduser(str(item))
        if osp.isdir(item):
            found = sorted(
                osp.join(item, f) for f in os.listdir(item)
                if osp.isfile(osp.join(item, f)) and _is_media(f))
            if not found:
                problems.append(f'{item}: folder has no image or video '
                                f'file ({", ".join(IMAGE_EXTS[:4])}, ...)')
        elif any(c in item for c in '*?['):
            found = sorted(
                p for p in glob.glob(item, recursive=True)
                if osp.isfile(p) and _is_media(p))
            if not found:
                problems.append(f'{item}: pattern matches no image or '
                                'video file')
        elif osp.isfile(item):
            found = [item]
        else:
            found = []
            problems.append(f'{item}: no such file or folder')
        paths += found
    sources, taken = [], set()
    for path in dict.fromkeys(paths):  # a file named twice is read once
        stem = osp.splitext(osp.basename(path))[0]
        name, k = stem, 1
        while name in taken:  # same file name in two folders
            name, k = f'{stem}_{k}', k + 1
        taken.add(name)
        sources.append(Source(path, _kind(path), name))
    return sources, problems


def read_image(path: str) -> np.ndarray:
    """An image file as (H, W, 3) uint8 BGR (as mmcv / OpenCV).

    Raises:
        ValueError: One line naming the file if it cannot be decoded.
    """
    import mmcv
    try:
        img = mmcv.imread(path, flag='color', channel_order='bgr')
    except Exception as e:  # mmcv raises different types per backend
        raise ValueError(f'{path}: cannot read the image ({e})') from None
    if img is None or img.size == 0:
        raise ValueError(f'{path}: cannot read the image (not a picture '
                         'OpenCV can decode)')
    return img


def video_frames(path: str) -> Tuple[float, int, Iterator[np.ndarray]]:
    """``(fps, frame count, frames)`` of a video file; frames are BGR.

    Raises:
        ValueError: One line naming the file if OpenCV cannot open it.
    """
    import cv2
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise ValueError(f'{path}: cannot open the video (OpenCV has no '
                         'decoder for it, or the file is damaged)')
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)

    def frames():
        try:
            while True:
                ok, frame = capture.read()
                if not ok:
                    return
                yield frame
        finally:
            capture.release()

    return fps, count, frames()
