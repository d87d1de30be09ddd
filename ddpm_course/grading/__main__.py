"""``python -m ddpm_course.grading`` (see :mod:`ddpm_course.grading.cli`)."""
import sys

from .cli import main

sys.exit(main())
