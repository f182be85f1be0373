import io

from panoptic_zoo.progress import Progress, clear_active


class _Tty(io.StringIO):

    def isatty(self):
        return True


def test_file_gets_full_lines_every_tenth():
    out = io.StringIO()
    bar = Progress(20, 'val', file=out, period=1e9)
    for _ in range(20):
        bar.update()
    bar.close()
    text = out.getvalue()
    assert '\r' not in text
    lines = text.splitlines()
    # 2/20, 4/20, ... 18/20 while running, then the final line
    assert [line.split()[1] for line in lines] == [
        f'{k}/20' for k in range(2, 20, 2)] + ['20/20']
    assert lines[-1].startswith('val  20/20  [####################]  100%')
    assert 'took' in lines[-1] and 'ETA' in lines[0]


def test_terminal_bar_is_erased_before_a_log_line():
    out = _Tty()
    bar = Progress(3, 'train', file=out)
    bar.update()  # the first update draws (no 0.1 s wait)
    assert out.getvalue().startswith('\rtrain  1/3')
    clear_active()  # what the console log filter calls
    assert out.getvalue().endswith('\r\033[K')
    clear_active()  # nothing drawn since: nothing written
    assert out.getvalue().count('\r\033[K') == 1
    bar.update(2)
    bar.close()
    assert out.getvalue().endswith('\n') and '3/3' in out.getvalue()
