"""``python -m ddpm_course.solutions`` rewrites the public expected data (see the package docstring)."""
import sys

from . import main

sys.exit(main())
