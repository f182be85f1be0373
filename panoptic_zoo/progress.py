"""A progress bar that is clean on a terminal and in a log file.

On a terminal the bar is redrawn in place (``\\r``); a logger line printed
meanwhile first erases it (:func:`clear_active`, called by the console log
filter), so log lines never share a line with the bar. Piped to a file, it
prints a full line every tenth of the work (or every ``period`` seconds),
never a ``\\r``.
"""
import sys
import time
from typing import Optional, TextIO

_ACTIVE: Optional['Progress'] = None


def _duration(seconds: float) -> str:
    seconds = int(round(max(seconds, 0)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f'{h}:{m:02d}:{s:02d}' if h else f'{m:02d}:{s:02d}'


class Progress:
    """Count ``total`` steps of ``desc`` work.

    Args:
        total (int): Steps expected (0 or less: unknown, no ETA).
        desc (str): What is counted, written first on the line.
        file (TextIO, optional): Defaults to ``sys.stdout`` (where the
            logger writes too, so the order is kept when both are piped).
        period (float): Seconds between lines when not on a terminal.
    """

    def __init__(self,
                 total: int,
                 desc: str = '',
                 file: Optional[TextIO] = None,
                 period: float = 30.0) -> None:
        global _ACTIVE
        self.total, self.desc = int(total), desc
        self.file = file or sys.stdout
        self.tty = bool(getattr(self.file, 'isatty', lambda: False)())
        self.period = period
        self.done = 0
        self.start = time.perf_counter()
        self._last = self.start - 1.0  # a terminal shows the first step
        self._next_tenth = 1
        self._drawn = False  # a partial line is on the terminal
        _ACTIVE = self

    def text(self) -> str:
        """``desc  done/total  [#####.....]  pct  rate  ETA``."""
        elapsed = time.perf_counter() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        parts = [self.desc] if self.desc else []
        if self.total > 0:
            frac = min(self.done / self.total, 1.0)
            bar = '#' * int(frac * 20) + '.' * (20 - int(frac * 20))
            parts += [f'{self.done}/{self.total}', f'[{bar}]',
                      f'{100 * frac:3.0f}%']
        else:
            parts.append(f'{self.done}')
        parts.append(f'{rate:.2f} it/s' if rate < 10 else f'{rate:.0f} it/s')
        if self.done >= self.total > 0:
            parts.append(f'took {_duration(elapsed)}')
        elif self.total > 0 and rate > 0:
            parts.append(
                f'ETA {_duration((self.total - self.done) / rate)}')
        return '  '.join(parts)

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if self.tty:
            if now - self._last >= 0.1 or self.done >= self.total:
                self.file.write('\r' + self.text() + '\033[K')
                self.file.flush()
                self._drawn, self._last = True, now
            return
        tenth = (10 * self.done // self.total) if self.total > 0 else 0
        if tenth >= self._next_tenth or now - self._last >= self.period:
            if self.done < self.total or self.total <= 0:
                self._line()
            self._next_tenth = tenth + 1

    def _line(self) -> None:
        self.file.write(self.text() + '\n')
        self.file.flush()
        self._last = time.perf_counter()

    def clear(self) -> None:
        """Erase the bar from the terminal (it comes back at the next
        update); nothing to do in a file."""
        if self.tty and self._drawn:
            self.file.write('\r\033[K')
            self.file.flush()
            self._drawn = False

    def close(self) -> None:
        """Write the final line (total and time taken)."""
        global _ACTIVE
        if self.tty:
            self.file.write('\r' + self.text() + '\033[K\n')
            self.file.flush()
        else:
            self._line()
        if _ACTIVE is self:
            _ACTIVE = None


def clear_active() -> None:
    """Erase the running bar, if any, before something else is printed."""
    if _ACTIVE is not None:
        _ACTIVE.clear()
