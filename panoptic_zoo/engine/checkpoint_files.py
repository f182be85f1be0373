"""Checkpoint files on disk: atomic writes, integrity checks, and the choice
of the file ``--resume`` continues from.

A checkpoint is written to a hidden temporary file in its final directory,
flushed to disk and renamed over the final name; a crash leaves either the
old file or the new one, never a torn one. ``last_checkpoint`` is written
the same way, after the checkpoint, and names it relative to the work dir so
a copied work dir resumes from its own files.
"""
import logging
import os
import os.path as osp
import re
import zipfile
from typing import List, Optional

from mmengine.logging import print_log

LAST_CHECKPOINT = 'last_checkpoint'
TMP_MARK = '.tmp-'  # hidden temporaries: .<name>.tmp-<pid>
_STEP_FILE = re.compile(r'^(iter|epoch)_(\d+)\.pth$')


class ResumeError(FileNotFoundError):
    """``--resume`` has nothing (intact) to resume from."""


def temporary_name(filename: str) -> str:
    return f'.{filename}{TMP_MARK}{os.getpid()}'


def fsync_dir(directory: str) -> None:
    """Persist a rename: the directory entry itself must reach the disk."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit(tmp_path: str, final_path: str) -> None:
    """fsync ``tmp_path`` and rename it over ``final_path``."""
    with open(tmp_path, 'rb+') as f:
        os.fsync(f.fileno())
    os.replace(tmp_path, final_path)
    fsync_dir(osp.dirname(osp.abspath(final_path)))


def write_text_atomic(path: str, text: str) -> None:
    tmp = osp.join(osp.dirname(path), temporary_name(osp.basename(path)))
    with open(tmp, 'w') as f:
        f.write(text)
    commit(tmp, path)


def remove_stale_temporaries(directory: str) -> List[str]:
    """Delete temporaries left by a writer that died before its rename."""
    removed = []
    if not osp.isdir(directory):
        return removed
    for name in os.listdir(directory):
        if name.startswith('.') and TMP_MARK in name:
            os.remove(osp.join(directory, name))
            removed.append(name)
    return removed


def damage(path: str) -> Optional[str]:
    """Why ``path`` is not an intact torch checkpoint, or None if it is.

    ``torch.save`` writes a zip archive with a CRC per record: reading every
    record back finds truncation and flipped bytes without unpickling.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if not any(n.endswith('/data.pkl') for n in names):
                return 'no data.pkl record (not a torch checkpoint)'
            bad = archive.testzip()
            if bad is not None:
                return f'record {bad} fails its CRC check'
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return f'unreadable zip archive ({error}); truncated?'
    return None


def step_checkpoints(work_dir: str) -> List[str]:
    """``iter_N.pth`` / ``epoch_N.pth`` in ``work_dir``, newest first."""
    found = []
    for name in os.listdir(work_dir):
        match = _STEP_FILE.match(name)
        if match:
            path = osp.join(work_dir, name)
            found.append((int(match.group(2)), osp.getmtime(path), path))
    return [path for *_, path in sorted(found, reverse=True)]


def _named_by_last_checkpoint(work_dir: str) -> Optional[str]:
    """The file ``last_checkpoint`` names, resolved against ``work_dir``."""
    record = osp.join(work_dir, LAST_CHECKPOINT)
    if not osp.isfile(record):
        return None
    with open(record) as f:
        named = f.read().strip()
    if not named:
        print_log(f'{record} is empty; looking for checkpoints in the '
                  'work dir instead', logger='current', level=logging.WARNING)
        return None
    if not osp.isabs(named):
        return osp.join(work_dir, named)
    # Written by MMEngine's own CheckpointHook: absolute. A work dir that was
    # copied must not read the original directory's files.
    own = osp.join(work_dir, osp.basename(named))
    if osp.realpath(osp.dirname(named)) != osp.realpath(work_dir):
        print_log(f'{record} names {named}, outside this work dir; using '
                  f'{own} instead', logger='current', level=logging.WARNING)
    return own


def latest_intact_checkpoint(work_dir: str) -> str:
    """The checkpoint ``--resume`` (no path) continues from.

    The file ``last_checkpoint`` names if it is intact, else the newest
    intact ``iter_N``/``epoch_N`` file, with a warning naming what was
    skipped. Raises :class:`ResumeError` when there is nothing to resume.
    """
    fix = ('pass the --work-dir of the run to resume, or drop --resume to '
           'start a fresh run')
    if not osp.isdir(work_dir):
        raise ResumeError(
            f'--resume: the work dir {work_dir} does not exist; {fix}')
    remove_stale_temporaries(work_dir)
    candidates = step_checkpoints(work_dir)
    named = _named_by_last_checkpoint(work_dir)
    if named is not None:
        candidates = [named] + [c for c in candidates if c != named]
    if not candidates:
        raise ResumeError(
            f'--resume: nothing to resume from in {work_dir} (no '
            f'{LAST_CHECKPOINT}, no iter_*.pth or epoch_*.pth); {fix}')
    skipped = []
    for path in candidates:
        problem = ('missing' if not osp.isfile(path) else damage(path))
        if problem is None:
            if skipped:
                print_log(
                    f'resuming from {path}: skipped ' + '; '.join(skipped),
                    logger='current',
                    level=logging.WARNING)
            return path
        skipped.append(f'{path} ({problem})')
    raise ResumeError(f'--resume: no intact checkpoint in {work_dir}: ' +
                      '; '.join(skipped) + f'; {fix}')


def checked_checkpoint(path: str) -> str:
    """``path`` itself, if it exists and is intact (``--resume PATH``)."""
    if not osp.isfile(path):
        raise ResumeError(
            f'--resume: checkpoint {path} does not exist; pass an existing '
            'file, or --resume without a path to continue from the newest '
            'intact checkpoint of the work dir')
    problem = damage(path)
    if problem is not None:
        raise ResumeError(
            f'--resume: checkpoint {path} is damaged: {problem}; pass '
            'another file, or --resume without a path to continue from the '
            'newest intact checkpoint of the work dir')
    return path
