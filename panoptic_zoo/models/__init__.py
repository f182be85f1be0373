"""Model components. Importing this package registers them (and, through
mmdet.models, every mmdet part the configs name)."""
import mmdet.models  # noqa: F401  (fills the parent registry)

from .segmentors import *  # noqa: F401,F403
from .dense_heads import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .roi_extractors import *  # noqa: F401,F403
from .roi_heads import *  # noqa: F401,F403
from .mask_heads import *  # noqa: F401,F403
from .semantic_heads import *  # noqa: F401,F403
from .fusion_heads import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .task_modules import *  # noqa: F401,F403

# Keep last: third-party plugin packages (panoptic_zoo.plugins) register once
# all of ours are, so their names are checked against ours.
from panoptic_zoo.plugins import load_plugins  # noqa: E402
load_plugins()
