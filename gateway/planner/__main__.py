"""``python -m gateway.planner plan ...`` (see gateway/planner/cli.py)."""

import sys

from gateway.planner.cli import main

sys.exit(main())
