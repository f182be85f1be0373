"""Work done inside one process of the distributed tests (run by torchrun,
or alone for the one-process reference).

    python dist_worker.py DATA_ROOT OUT_DIR [--gradients] [CONFIG ...]

Each CONFIG (relative to the configs folder, or ``CONTROL``) takes 2
training steps under DDP with ``find_unused_parameters=False``; the result
says, per config, whether they ran and which parameters got no gradient.
``--gradients`` runs one forward/backward of Panoptic FPN on two fixed
training images and saves the gradients. Results go to ``OUT_DIR`` as JSON /
``torch.save`` files, one per rank.
"""
import json
import os
import os.path as osp
import sys
import time

import torch
from mmdet.models.task_modules.samplers import RandomSampler
from mmengine.dist import get_rank, get_world_size
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODEL_WRAPPERS
from mmengine.runner import Runner

from panoptic_zoo.engine.distributed import configure_distributed
from panoptic_zoo.registry import MODELS, TASK_UTILS
from panoptic_zoo.testing import tiny_synthetic_config
from panoptic_zoo.utils import register_all_modules

SCALE = (128, 128)  # the fixture's image size: no upscaling, fast steps
GRADIENT_IMAGES = [0, 1]  # training images of the gradient check
GRADIENT_CONFIG = 'panoptic_fpn/panoptic-fpn_r18-tiny_fpn_2k_synthetic.py'
# A control for the DDP-safety check: Panoptic FPN whose FPN takes only
# ResNet stages 1-3, so stage 4 runs but gets no gradient.
CONTROL = 'control:layer4-unused'


@TASK_UTILS.register_module(force=True)  # the tests also import this file
class FirstIndexSampler(RandomSampler):
    """``RandomSampler`` with the draw replaced by "the first ``num``
    candidates in index order": same counts per image (``num`` samples,
    at most ``num * pos_fraction`` positives), no randomness."""

    def random_choice(self, gallery, num):
        return gallery[:num]


def _record_gradients(model):
    """Names of the parameters that receive a gradient, filled by hooks."""
    used = set()
    for name, param in model.named_parameters():
        if param.requires_grad:
            param.register_post_accumulate_grad_hook(
                lambda p, name=name: used.add(name))
    return used


def _shrink(cfg, launcher):
    """Fixture-sized images, no evaluation, no checkpoint, fixed seed."""
    for step in cfg.train_dataloader.dataset.pipeline:
        if step['type'] == 'Resize':
            step['scale'] = SCALE
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.custom_hooks = [
        h for h in cfg.custom_hooks if h['type'] == 'ClassCheckHook'
    ]
    cfg.randomness = dict(seed=0)
    cfg.launcher = launcher
    cfg.env_cfg.dist_cfg.timeout = 300  # a stuck collective fails the test


def ddp_safety(data_root, out_dir, configs):
    """Two training steps of each config under DDP, as the runner's
    training loop takes them (``train_step`` of the wrapper the runner
    builds from ``model_wrapper_cfg``), without the runner's per-run
    set-up (environment report, config dumps: seconds per config)."""
    results = {}
    for relative in configs:
        start = time.perf_counter()
        cfg = tiny_synthetic_config(
            data_root,
            out_dir,
            max_iters=2,
            relative=GRADIENT_CONFIG if relative == CONTROL else relative)
        if relative == CONTROL:
            cfg.model.backbone.out_indices = (0, 1, 2)
            cfg.model.neck.in_channels = cfg.model.neck.in_channels[:3]
        _shrink(cfg, 'pytorch')
        cfg.train_dataloader.batch_size = 1
        cfg.find_unused_parameters = False
        configure_distributed(cfg)
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
        used = _record_gradients(model)
        wrapper = MODEL_WRAPPERS.build(
            cfg.model_wrapper_cfg, default_args=dict(module=model))
        optim_wrapper = build_optim_wrapper(wrapper, cfg.optim_wrapper)
        wrapper.train()  # as the training loop (norm_eval and the like)
        loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
        batches = iter(loader)
        steps, error = 0, None
        try:
            for _ in range(2):
                wrapper.train_step(next(batches), optim_wrapper)
                steps += 1
        except RuntimeError as e:  # DDP: a parameter without gradient
            error = str(e).splitlines()[0]
        results[relative] = dict(
            error=error,
            steps=steps,
            seconds=round(time.perf_counter() - start, 2),
            unused=sorted(n for n, p in model.named_parameters()
                          if p.requires_grad and n not in used))
    with open(osp.join(out_dir, f'ddp_safety_rank{get_rank()}.json'),
              'w') as f:
        json.dump(results, f, indent=1)


def gradients(data_root, out_dir):
    """One loss.backward() on the same two images, split over the ranks.

    What is pinned so one process with both images and two with one each
    compute the same average gradient: the RPN and R-CNN samplers take
    the first candidates instead of random ones (same number of samples
    per image, so every loss divides by the same count); the R-CNN
    sampler keeps one positive per image (the mask loss averages over
    positive RoIs); no random flip; the backbone's BN uses its running
    statistics (``norm_eval``) instead of per-process batch statistics;
    the other norms are GN, per image.
    """
    world = int(os.environ.get('WORLD_SIZE', 1))
    cfg = tiny_synthetic_config(
        data_root,
        osp.join(out_dir, f'world{world}'),
        max_iters=1,
        relative=GRADIENT_CONFIG)
    _shrink(cfg, 'pytorch' if world > 1 else 'none')
    loader = cfg.train_dataloader
    loader.dataset.indices = GRADIENT_IMAGES
    loader.dataset.pipeline = [
        s for s in loader.dataset.pipeline if s['type'] != 'RandomFlip'
    ]
    loader.batch_size = len(GRADIENT_IMAGES) // world
    loader.sampler = dict(type='DefaultSampler', shuffle=False)
    model = cfg.model
    model.backbone.norm_eval = True
    model.train_cfg.rpn.sampler.type = 'FirstIndexSampler'
    model.train_cfg.rcnn.sampler.update(
        type='FirstIndexSampler', num=8, pos_fraction=0.125)
    configure_distributed(cfg)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    module = getattr(model, 'module', model)
    model.train()  # as the training loop: BN layers go to eval (norm_eval)
    batch = next(iter(runner.build_dataloader(cfg.train_dataloader)))
    data = module.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    loss, log_vars = module.parse_losses(losses)
    loss.backward()
    torch.save(
        dict(
            grads={
                n: p.grad
                for n, p in module.named_parameters() if p.grad is not None
            },
            img_ids=[s.img_id for s in data['data_samples']],
            losses={
                k: float(v.detach())
                for k, v in log_vars.items()
            },
            world=get_world_size()),
        osp.join(out_dir, f'grads_world{world}_rank{get_rank()}.pt'))


if __name__ == '__main__':
    register_all_modules()
    # dist_worker.py DATA_ROOT OUT_DIR [--gradients] [CONFIG ...]
    data_root, out_dir, *rest = sys.argv[1:]
    if '--gradients' in rest:
        rest.remove('--gradients')
        gradients(data_root, out_dir)
    if rest:
        ddp_safety(data_root, out_dir, rest)
