"""``python -m monitor`` runs the vzmon command line."""

import sys

from monitor.cli import main

sys.exit(main())
