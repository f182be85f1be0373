"""Run the checks of one split: the JSON in this process, the pixels in
``jobs`` worker processes."""
import json
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Optional

from .annotations import check_annotations
from .pixels import check_pixels_chunk
from .problems import Problem, Report


def load_json(path: str):
    """The parsed JSON, or a problem naming the file."""
    try:
        with open(path, 'rb') as f:
            return json.loads(f.read()), None
    except FileNotFoundError:
        return None, Problem('json-unreadable', path, 'no such file')
    except (ValueError, UnicodeDecodeError) as e:
        return None, Problem('json-unreadable', path, f'not valid JSON: {e}')


def check_split(ann_file: str,
                seg_dir: Optional[str] = None,
                img_dir: Optional[str] = None,
                *,
                name: Optional[str] = None,
                pixels: bool = True,
                jobs: int = 1,
                metainfo: Optional[dict] = None,
                order_matters: bool = False,
                max_examples: int = 5) -> Report:
    """Check one COCO panoptic split.

    Args:
        ann_file (str): The panoptic JSON.
        seg_dir (str, optional): Folder of its PNGs (needed with
            ``pixels``).
        img_dir (str, optional): Folder of the images (likewise).
        name (str, optional): Report title; default: ``ann_file``.
        pixels (bool): Also decode every image and PNG. Defaults to True.
        jobs (int): Worker processes for the pixels; 1 runs them here.
        metainfo (dict, optional): Also check these classes.
        order_matters (bool): The dataset labels categories in JSON order.
        max_examples (int): Examples kept per problem kind.

    Returns:
        Report: Counts and first examples per problem kind.
    """
    report = Report(name or ann_file, max_examples=max_examples)
    data, problem = load_json(ann_file)
    if problem is not None:
        report.add(problem)
        return report
    problems, tasks, report.num_segments = check_annotations(
        data, ann_file, metainfo, order_matters)
    report.extend(problems)
    report.num_images = len(data.get('images') or []) if isinstance(
        data, dict) else 0
    if not pixels:
        return report
    if seg_dir is None or img_dir is None:
        raise ValueError('checking pixels needs seg_dir and img_dir')
    report.pixels_checked = True
    jobs = max(1, min(jobs, len(tasks)))
    # ~4 chunks per worker balances uneven images without much overhead.
    size = max(1, -(-len(tasks) // (4 * jobs)))
    chunks = [(tasks[i:i + size], img_dir, seg_dir)
              for i in range(0, len(tasks), size)]
    if jobs == 1:
        results = map(check_pixels_chunk, chunks)
        for found in results:
            report.extend(found)
    else:
        with ProcessPoolExecutor(jobs) as pool:
            for found in pool.map(check_pixels_chunk, chunks):
                report.extend(found)
    return report


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(
        os, 'sched_getaffinity') else (os.cpu_count() or 1)
