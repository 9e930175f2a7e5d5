"""``python -m monitor`` runs the vzmon command line."""

import sys

from monitor.cli import main

if __name__ == "__main__":  # not when a spawned worker of `vzmon backfill` imports this as its parent's main
    sys.exit(main())
