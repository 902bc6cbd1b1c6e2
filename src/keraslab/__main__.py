"""``python -m keraslab``: the ``keraslab`` command."""

import sys

from keraslab.cli import main

sys.exit(main())
