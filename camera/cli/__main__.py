"""``python -m camera.cli``: the ``ronda`` command."""

import sys

from camera.cli import main

sys.exit(main())
