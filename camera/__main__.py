"""``python -m camera`` is ``ronda``."""

import sys

from camera.cli import main

sys.exit(main())
