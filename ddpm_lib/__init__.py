"""ddpm_lib: the shared library of the book *Diffusion models, verified*.

Modules, each with one job:

* :mod:`ddpm_lib.schedules` — ``Schedule``, ``linear_schedule``, ``cosine_schedule``;
* :mod:`ddpm_lib.forward` — the OU process and its discrete VP chain;
* :mod:`ddpm_lib.verify` — the checking helpers every notebook uses.
"""
from . import forward, verify
from .schedules import Schedule, cosine_schedule, linear_schedule

__all__ = ["Schedule", "linear_schedule", "cosine_schedule", "forward", "verify"]
__version__ = "0.1.0"
