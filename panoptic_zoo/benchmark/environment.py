"""Where a benchmark ran: device, library versions, date, command."""
import datetime
import platform
import shlex
import sys

import torch


def cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(device: str) -> str:
    return torch.cuda.get_device_name() if device == 'cuda' else \
        f'{cpu_name()}, {torch.get_num_threads()} torch thread(s)'


def environment(device: str) -> dict:
    """Device and versions, JSON-ready."""
    import mmcv
    import mmdet
    import mmengine
    cudnn = torch.backends.cudnn.version() if device == 'cuda' else None
    return dict(
        device=device,
        device_name=device_name(device),
        torch=torch.__version__,
        cuda=torch.version.cuda,
        cudnn=cudnn,
        cudnn_allow_tf32=bool(torch.backends.cudnn.allow_tf32),
        matmul_allow_tf32=bool(torch.backends.cuda.matmul.allow_tf32),
        mmcv=mmcv.__version__,
        mmdet=mmdet.__version__,
        mmengine=mmengine.__version__,
        python=platform.python_version(),
        platform=platform.platform())


def now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec='seconds')


def command_line() -> str:
    """This process's command line (``sys.argv``), shell-quoted."""
    return shlex.join(sys.argv)
