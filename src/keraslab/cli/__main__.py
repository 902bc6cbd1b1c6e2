"""``python -m keraslab.cli``: the ``keraslab`` command."""

import sys

from keraslab.cli import main

sys.exit(main())
