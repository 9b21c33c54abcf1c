"""``python -m runyard.sweep RUN_ID``: carry one HyperDrive run (see controller.py)."""

import sys

from runyard.sweep.controller import main

sys.exit(main())
