"""``python -m vaecore``: the command line (see :mod:`vaecore.cli`)."""

import sys

from vaecore.cli import main

if __name__ == "__main__":
    sys.exit(main())
