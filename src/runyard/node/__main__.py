"""``python -m runyard.node RUN_ID``: the executor (see :mod:`runyard.node.executor`)."""

import sys

from runyard.node.executor import main

sys.exit(main())
