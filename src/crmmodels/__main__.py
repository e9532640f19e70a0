"""``python -m crmmodels``: the command line (see :mod:`crmmodels.cli`)."""

import sys

from crmmodels.cli import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
