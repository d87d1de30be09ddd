"""``python -m ddpm_course`` runs the command line (see :mod:`ddpm_course.cli`)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
