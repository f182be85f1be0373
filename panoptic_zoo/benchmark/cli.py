"""Arguments and entry point of ``panoptic-zoo benchmark`` (also
``tools/benchmark.py``)."""
import argparse
import os

from mmengine.config import DictAction

from .speed import PRECISIONS


def add_benchmark_args(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        'Measure every zoo model against MMDetection\'s own Panoptic FPN in '
        'one run on one device: training step time and peak memory, '
        'inference latency and throughput, parameters, FLOPs, MFU, and PQ '
        '(after a short training on the built-in dataset, or of given '
        'checkpoints on COCO). Writes benchmark.json, benchmark.md and PNG '
        'plots. Defaults marked GPU/CPU depend on --device.')
    parser.add_argument(
        '--configs',
        nargs='+',
        metavar='CONFIG',
        help='configs to measure (default: the zoo: the R50 COCO configs of '
        'Panoptic FPN, PANet, UPSNet, AUNet and configs/mix/*_coco.py); a '
        '_synthetic config is its own accuracy partner')
    parser.add_argument(
        '--device',
        choices=['cpu', 'cuda'],
        help='default: cuda if available, else cpu')
    parser.add_argument(
        '--input',
        metavar='BxHxW',
        help='training input: batch x height x width (default GPU '
        '2x800x1216, CPU 1x256x384); inference uses the same size')
    parser.add_argument(
        '--instances',
        type=int,
        help='GT instances per training image (default GPU 15, CPU 5)')
    parser.add_argument(
        '--infer-batch',
        type=int,
        help='batch of the inference throughput (default GPU 8, CPU 2)')
    parser.add_argument(
        '--steps',
        type=int,
        help='timed iterations, the median is reported (default GPU 20, '
        'CPU 3)')
    parser.add_argument(
        '--warmup',
        type=int,
        help='untimed iterations first (default GPU 5, CPU 1)')
    parser.add_argument(
        '--precision',
        nargs='+',
        choices=PRECISIONS,
        help='fp32 and/or amp (bf16 autocast where the GPU and mmcv\'s '
        'RoIAlign support it, else fp16 with loss scaling; the JSON says '
        'which); default GPU both, CPU fp32')
    parser.add_argument(
        '--train-iters',
        type=int,
        help='training iterations of each _synthetic config before its PQ '
        '(default GPU 2000, CPU 50)')
    parser.add_argument(
        '--data-root',
        help='the built-in dataset for the accuracy runs (default: '
        'generated into OUT_DIR/data/synthetic); with --checkpoint, a COCO '
        'panoptic download (val2017/, annotations/panoptic_val2017.json '
        '+ PNGs)')
    parser.add_argument(
        '--checkpoint',
        action='append',
        metavar='NAME=PATH',
        help='evaluate this checkpoint of model NAME (as named in the '
        'report, e.g. panoptic-fpn, mmdet-panoptic-fpn) with its COCO '
        'config on --data-root instead of training; repeat per model')
    parser.add_argument(
        '--skip-accuracy', action='store_true', help='no PQ phase')
    parser.add_argument(
        '--skip-speed',
        action='store_true',
        help='no speed/size phase (PQ only)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='overrides applied to every config, the reference\'s too, '
        'e.g. model.train_cfg.rcnn.sampler.num=64')
    parser.add_argument(
        '--threads',
        type=int,
        help='CPU threads of torch (torch.set_num_threads; default: '
        'torch\'s). On a shared CPU, 1 gives stable timings: OpenMP '
        'threads competing with other jobs for the cores make the steps '
        'vary several-fold')
    parser.add_argument(
        '--clock',
        choices=['wall', 'cpu'],
        default='wall',
        help='what a time is: wall time (default), or with --device cpu the '
        'process\'s CPU time (time.process_time), which other jobs on a '
        'shared CPU do not inflate (use with --threads 1)')
    parser.add_argument(
        '--out-dir', help='default: work_dirs/benchmark/<timestamp>')
    parser.add_argument('--seed', type=int, default=0, help='random seed')


def run_benchmark(args: argparse.Namespace) -> dict:
    """Check the arguments, run, print the table and where files went."""
    from panoptic_zoo.utils import register_all_modules
    from .harness import run_plan
    from .plan import make_plan
    from .report import markdown
    plan = make_plan(args)
    register_all_modules()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = '0'
    result = run_plan(plan)
    print(markdown(result))
    print(
        f'[benchmark] wrote {plan.out_dir}/benchmark.json, benchmark.md '
        f'and {len(result["plots"])} plot(s)',
        flush=True)
    return result
