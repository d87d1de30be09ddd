"""``python -m ddpm_lib`` runs the command line (see :mod:`ddpm_lib.cli`)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
