"""Run a trained panoptic model on pictures: :class:`PanopticInferencer`.

Follows mmdet's ``DetInferencer`` conventions (model by config +
checkpoint, ``device``, ``batch_size``; the test pipeline with image
loading from arrays and no annotation loading) with our scope and our
checkpoint loading built in: no ``register_all_modules``, ``scope=`` or
``allow_mmengine_checkpoints`` call is needed first. A checkpoint may be a
path or a URL (downloaded and cached as MMEngine does).

Example::

    from panoptic_zoo.apis import PanopticInferencer
    inferencer = PanopticInferencer('cfg.py', 'iter_2000.pth')
    result = inferencer('street.jpg')[0]
    result.segments[0]   # {'category': 'car', 'score': None, 'area': ...}
    result.overlay       # (H, W', 3) uint8 RGB picture with legend
"""
import copy
import json
import os
import os.path as osp
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Union

import numpy as np

from panoptic_zoo.panoptic_png import (coco_segments_info, id2rgb,
                                       segments_of)
from .inputs import Source, expand_inputs, read_image, video_frames

ImageLike = Union[str, np.ndarray]


class PanopticResult:
    """The panoptic prediction of one picture.

    Attributes:
        name (str): Output stem (file name without extension, or
            ``video_000012`` for a frame).
        path (str or None): The input file.
        image (np.ndarray): (H, W, 3) uint8 RGB input.
        pan (np.ndarray): (H, W) int64 mmdet panoptic map (``label +
            instance_id * INSTANCE_OFFSET``; ``label == num_classes`` is
            void), exactly the model's ``pred_panoptic_seg``.
        ids (np.ndarray): (H, W) int64 COCO segment ids (0 = void).
        segments (list[dict]): Per segment ``id``, ``label``,
            ``category`` (class name), ``category_id``, ``isthing``,
            ``score`` (None when the model gives none), ``area``, ``bbox``
            (COCO ``[x, y, w, h]``), ``instance_id``.
    """

    def __init__(self, name: str, path: Optional[str], image: np.ndarray,
                 pan: np.ndarray, meta: dict, category_ids: Sequence[int],
                 instance_scores: Optional[Sequence[float]] = None) -> None:
        self.name, self.path, self.image, self.pan = name, path, image, pan
        self._meta = meta
        classes = meta['classes']
        things = set(meta.get('thing_classes', ()))
        self.ids, segments = segments_of(pan, len(classes), instance_scores)
        for s in segments:
            s['category'] = classes[s['label']]
            s['category_id'] = int(category_ids[s['label']])
            s['isthing'] = s['category'] in things
        self.segments = segments
        self._category_ids = category_ids
        self._overlay = None

    @property
    def overlay(self) -> np.ndarray:
        """(H, W + legend, 3) uint8 RGB picture (drawn once, on first use)."""
        if self._overlay is None:
            from panoptic_zoo.visualization import draw_panoptic
            scores = {
                s['instance_id']: s['score']
                for s in self.segments if s['instance_id']
            }
            self._overlay = draw_panoptic(
                self.image, self.pan, self._meta['classes'],
                self._meta.get('palette'), scores=scores)
        return self._overlay

    def segments_info(self) -> List[dict]:
        """COCO panoptic ``segments_info`` of this picture."""
        return coco_segments_info(self.segments, self._category_ids)

    def __repr__(self) -> str:
        return (f'PanopticResult({self.name!r}, {self.pan.shape[1]}x'
                f'{self.pan.shape[0]}, {len(self.segments)} segments)')


def _pick_device(device: Optional[str]) -> str:
    import torch
    if device is None:
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    if str(device).startswith('cuda') and not torch.cuda.is_available():
        raise ValueError(f'device {device!r} asked for, but CUDA is not '
                         'available here; use --device cpu')
    return str(device)


def _inference_pipeline(pipeline_cfg: list) -> list:
    """The test pipeline for arrays: load from the array (as mmdet's
    ``InferencerLoader`` does for arrays), no annotations, no ``img_id``."""
    out = []
    for step in copy.deepcopy(list(pipeline_cfg)):
        kind = str(step['type']).split('.')[-1]
        if kind in ('LoadPanopticAnnotations', 'LoadAnnotations'):
            continue
        if kind == 'LoadImageFromFile':
            step = dict(type='mmdet.LoadImageFromNDArray')
        if kind == 'PackDetInputs' and 'meta_keys' in step:
            step['meta_keys'] = tuple(k for k in step['meta_keys']
                                      if k != 'img_id')
        out.append(step)
    if not any('LoadImageFromNDArray' in str(s['type']) for s in out):
        raise ValueError('the config\'s test pipeline has no '
                         'LoadImageFromFile step to replace')
    return out


class PanopticInferencer:
    """Panoptic predictions of a trained model on images and videos.

    Args:
        model (str or Config): Config file, a zoo config's name or
            ``panoptic_zoo::`` path, or a loaded config.
        weights (str, optional): Checkpoint path or URL. Without it, the
            model keeps its initial weights (useful only for tests).
        device (str, optional): ``'cpu'``, ``'cuda'``, ``'cuda:1'``;
            default: a GPU if there is one.
        categories (str, optional): A COCO panoptic JSON whose categories
            give the class ids written (matched by name). Default: the
            config's test annotation file if it exists, else 1, 2, ... in
            class order.
        palette (sequence, optional): Class colours for the overlays;
            default: the dataset's.
    """

    def __init__(self,
                 model,
                 weights: Optional[str] = None,
                 device: Optional[str] = None,
                 categories: Optional[str] = None,
                 palette: Optional[Sequence] = None) -> None:
        from mmengine.config import Config
        from mmengine.registry import DefaultScope

        from panoptic_zoo.quiet import quiet_library_warnings
        from panoptic_zoo.registry import SCOPE
        from panoptic_zoo.utils import register_all_modules
        from panoptic_zoo.zoo_configs import resolve_config
        quiet_library_warnings()
        register_all_modules(init_default_scope=False)
        if isinstance(model, (str, os.PathLike)):
            # a file, or a zoo config by name or panoptic_zoo:: path
            cfg = Config.fromfile(resolve_config(str(model)))
        else:
            cfg = copy.deepcopy(model)
        self.cfg = cfg
        self.device = _pick_device(device)
        with DefaultScope.overwrite_default_scope(SCOPE):
            self.model = self._init_model(cfg, weights)
            self.meta = self._init_meta(cfg, self._checkpoint_meta, palette)
            from mmengine.dataset import Compose
            self.pipeline = Compose(
                _inference_pipeline(cfg.test_dataloader.dataset.pipeline))
        self.categories = self._init_categories(cfg, categories)

    # -------------------------------------------------------------- set up
    def _init_model(self, cfg, weights: Optional[str]):
        from panoptic_zoo.engine.checkpoint import allow_mmengine_checkpoints
        from panoptic_zoo.registry import MODELS
        model_cfg = copy.deepcopy(cfg.model)
        # No pretrained backbone download: the checkpoint has the weights.
        if 'init_cfg' in model_cfg.get('backbone', {}):
            model_cfg.backbone.init_cfg = None
        model = MODELS.build(model_cfg)
        self._checkpoint_meta = {}
        if weights is not None:
            from mmengine.runner import load_checkpoint
            allow_mmengine_checkpoints()
            is_url = str(weights).startswith(('http://', 'https://'))
            if not is_url and not osp.isfile(weights):
                raise FileNotFoundError(f'checkpoint not found: {weights}')
            from mmengine.logging import MMLogger
            # mmengine reports missing / unexpected keys through its
            # logger: a checkpoint of another model must not pass unseen.
            MMLogger.get_instance('panoptic_zoo')
            checkpoint = load_checkpoint(
                model, str(weights), map_location='cpu', strict=False)
            self._checkpoint_meta = checkpoint.get('meta', {}) or {}
        model.cfg = cfg
        model.to(self.device)
        model.eval()
        return model

    @staticmethod
    def _init_meta(cfg, checkpoint_meta: dict, palette) -> dict:
        """Class names: the checkpoint's (what the model was trained on),
        else the config's test dataset's; things/stuff and palette from
        the dataset when the checkpoint lacks them."""
        from panoptic_zoo.registry import DATASETS
        dataset_cfg = copy.deepcopy(cfg.test_dataloader.dataset)
        dataset_cfg['lazy_init'] = True  # metainfo only, no annotation read
        meta = dict(DATASETS.build(dataset_cfg).metainfo)
        saved = {
            k.lower(): v
            for k, v in (checkpoint_meta.get('dataset_meta') or {}).items()
        }
        if not saved and 'CLASSES' in checkpoint_meta:  # mmdet 2.x
            saved = dict(classes=checkpoint_meta['CLASSES'])
        meta.update(saved)
        if palette is not None:
            meta['palette'] = [tuple(c) for c in palette]
        classes = list(meta.get('classes') or [])
        if not classes:
            raise ValueError('no class names in the checkpoint nor in the '
                             'config\'s test dataset metainfo')
        meta['classes'] = classes
        return meta

    def _init_categories(self, cfg, categories: Optional[str]) -> List[dict]:
        """COCO categories (id, name, isthing, color) in label order."""
        from panoptic_zoo.evaluation.pq_files import load_json
        path = categories
        if path is None:
            dataset = cfg.test_dataloader.dataset
            ann = osp.join(dataset.get('data_root', '') or '',
                           dataset.get('ann_file', '') or '')
            path = ann if ann.endswith('.json') and osp.isfile(ann) else None
        things = set(self.meta.get('thing_classes', ()))
        palette = self.meta.get('palette') or []
        by_name = {}
        if path is not None:
            by_name = {
                c['name']: c
                for c in load_json(path, 'categories JSON')['categories']
            }
            missing = [n for n in self.meta['classes'] if n not in by_name]
            if missing and categories is not None:
                raise ValueError(f'classes {missing} of the model are not '
                                 f'categories of {path}')
            if missing:
                by_name = {}
        out = []
        for label, name in enumerate(self.meta['classes']):
            if name in by_name:
                out.append(dict(by_name[name]))
                continue
            color = list(palette[label]) if label < len(palette) else None
            out.append(
                dict(
                    id=label + 1,
                    name=name,
                    isthing=int(name in things),
                    **({} if color is None else dict(color=color))))
        return out

    @property
    def classes(self) -> List[str]:
        return list(self.meta['classes'])

    # ---------------------------------------------------------- inference
    def predict(self, images: Sequence[np.ndarray]) -> list:
        """The model's data samples for BGR arrays (one forward pass)."""
        import torch
        from mmengine.dataset import pseudo_collate
        data = pseudo_collate(
            [self.pipeline(dict(img=img, img_id=0)) for img in images])
        with torch.no_grad():
            return self.model.test_step(data)

    def _results(self, batch: List[tuple]) -> List[PanopticResult]:
        samples = self.predict([img for _, _, img in batch])
        out = []
        ids = [c['id'] for c in self.categories]
        for (name, path, img), sample in zip(batch, samples):
            pred = sample.pred_panoptic_seg
            pan = pred.sem_seg[0].cpu().numpy().astype(np.int64)
            scores = pred.metainfo.get('instance_scores')
            out.append(
                PanopticResult(name, path, np.ascontiguousarray(
                    img[..., ::-1]), pan, self.meta, ids, scores))
        return out

    def iter_arrays(self, items: Iterable[tuple],
                    batch_size: int = 1) -> Iterator[PanopticResult]:
        """Results of ``(name, path, bgr_image)`` items, in order, run
        ``batch_size`` at a time (a video is streamed, not held)."""
        batch = []
        for item in items:
            batch.append(item)
            if len(batch) == batch_size:
                yield from self._results(batch)
                batch = []
        if batch:
            yield from self._results(batch)

    def __call__(self,
                 inputs: Union[ImageLike, Sequence[ImageLike]],
                 batch_size: int = 1) -> List[PanopticResult]:
        """Predictions of images given as paths (files, folders, globs)
        or RGB arrays; videos go through :func:`run_inference`.

        Raises:
            ValueError: An input that names nothing or cannot be read.
        """
        if isinstance(inputs, (str, np.ndarray)):
            inputs = [inputs]
        items = []
        for k, item in enumerate(inputs):
            if isinstance(item, np.ndarray):
                if item.ndim != 3 or item.shape[2] != 3:
                    raise ValueError(f'input {k}: expected an (H, W, 3) '
                                     f'RGB array, got shape {item.shape}')
                items.append((f'{k:06d}', None, item[..., ::-1]))
                continue
            sources, problems = expand_inputs([item])
            if problems:
                raise ValueError(problems[0])
            for source in sources:
                if source.kind == 'video':
                    raise ValueError(f'{source.path}: a video; use '
                                     'run_inference() or `panoptic-zoo '
                                     'infer` for videos')
                items.append(
                    (source.name, source.path, read_image(source.path)))
        return list(self.iter_arrays(items, batch_size))


class PredictionWriter:
    """Writes results as COCO panoptic predictions and overlays.

    ``{out_dir}/panoptic/{name}.png`` (COCO RGB ids), one
    ``{out_dir}/panoptic.json`` (``images``, ``annotations``,
    ``categories``: ready for ``panoptic-zoo eval-pq`` or a COCO
    submission) written by :meth:`close`, and overlays under
    ``{out_dir}/overlays/``.
    """

    def __init__(self, out_dir: str, categories: List[dict],
                 overlays: bool = True) -> None:
        self.out_dir, self.categories = out_dir, categories
        self.overlays = overlays
        self.images, self.annotations = [], []
        os.makedirs(osp.join(out_dir, 'panoptic'), exist_ok=True)
        if overlays:
            os.makedirs(osp.join(out_dir, 'overlays'), exist_ok=True)

    def add(self, result: PanopticResult, overlay: bool = True) -> None:
        from PIL import Image
        file_name = f'{result.name}.png'
        path = osp.join(self.out_dir, 'panoptic', file_name)
        os.makedirs(osp.dirname(path), exist_ok=True)
        Image.fromarray(id2rgb(result.ids)).save(path)
        image_id = len(self.images) + 1
        height, width = result.pan.shape
        self.images.append(
            dict(
                id=image_id,
                file_name=result.path or file_name,
                height=height,
                width=width))
        self.annotations.append(
            dict(
                image_id=image_id,
                file_name=file_name,
                segments_info=result.segments_info()))
        if self.overlays and overlay:
            out = osp.join(self.out_dir, 'overlays', f'{result.name}.png')
            os.makedirs(osp.dirname(out), exist_ok=True)
            Image.fromarray(result.overlay).save(out)

    def close(self) -> str:
        path = osp.join(self.out_dir, 'panoptic.json')
        with open(path, 'w') as f:
            json.dump(
                dict(
                    images=self.images,
                    annotations=self.annotations,
                    categories=self.categories), f)
        return path


class VideoOverlay:
    """An overlay video, frames resized to the first frame's size (the
    legend's width changes with the classes present)."""

    def __init__(self, path: str, fps: float) -> None:
        self.path, self.fps, self.writer, self.size = path, fps, None, None

    def add(self, rgb: np.ndarray) -> None:
        import cv2
        if self.writer is None:
            self.size = (rgb.shape[1], rgb.shape[0])
            os.makedirs(osp.dirname(self.path) or '.', exist_ok=True)
            fourcc = cv2.VideoWriter_fourcc(*'mp4v')
            self.writer = cv2.VideoWriter(self.path, fourcc, self.fps,
                                          self.size)
            if not self.writer.isOpened():
                raise RuntimeError(f'OpenCV cannot write the video '
                                   f'{self.path} (no mp4v encoder)')
        frame = rgb[..., ::-1]
        if (frame.shape[1], frame.shape[0]) != self.size:
            h, w = self.size[1], self.size[0]
            frame = np.pad(frame[:h, :w],
                           ((0, max(0, h - frame.shape[0])),
                            (0, max(0, w - frame.shape[1])), (0, 0)),
                           constant_values=255)
        self.writer.write(np.ascontiguousarray(frame))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()


def run_inference(inferencer: PanopticInferencer,
                  inputs: Sequence[str],
                  out_dir: str,
                  batch_size: int = 1,
                  overlays: bool = True,
                  progress: bool = True,
                  log=print) -> Dict[str, list]:
    """Predict every input and write the results (see
    :class:`PredictionWriter`); a video's overlay is
    ``overlays/{name}.mp4`` and its frames are ``{name}/{frame:06d}``.

    An input that names nothing or cannot be read is reported through
    ``log`` and skipped; the others are finished.

    Returns:
        dict: ``done`` (output names written) and ``skipped`` (one-line
        reasons).
    """
    from panoptic_zoo.progress import Progress
    sources, skipped = expand_inputs(inputs)
    for problem in skipped:
        log(f'skipped: {problem}')
    writer = PredictionWriter(out_dir, inferencer.categories, overlays)
    done = []
    images = [s for s in sources if s.kind == 'image']
    videos = [s for s in sources if s.kind == 'video']
    bar = Progress(len(images), 'images') if progress and images else None

    def readable(items: List[Source]):
        for source in items:
            try:
                img = read_image(source.path)
            except ValueError as e:
                if bar is not None:
                    bar.clear()
                log(f'skipped: {e}')
                skipped.append(str(e))
                if bar is not None:
                    bar.update()
                continue
            yield source.name, source.path, img

    for result in inferencer.iter_arrays(readable(images), batch_size):
        writer.add(result)
        done.append(result.name)
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    for source in videos:
        try:
            fps, count, frames = video_frames(source.path)
        except ValueError as e:
            log(f'skipped: {e}')
            skipped.append(str(e))
            continue
        video = VideoOverlay(
            osp.join(out_dir, 'overlays', f'{source.name}.mp4'), fps)
        bar = Progress(count, source.name) if progress else None
        items = ((f'{source.name}/{k:06d}', None, frame)
                 for k, frame in enumerate(frames))
        try:
            for result in inferencer.iter_arrays(items, batch_size):
                writer.add(result, overlay=False)
                if overlays:
                    video.add(result.overlay)
                done.append(result.name)
                if bar is not None:
                    bar.update()
        finally:
            video.close()
            if bar is not None:
                bar.close()
    writer.close()
    return dict(done=done, skipped=skipped)
