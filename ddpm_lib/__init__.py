"""ddpm_lib: the shared library of the book *Diffusion models, verified*.

Modules, each with one job:

* :mod:`ddpm_lib.schedules` — ``Schedule``, ``linear_schedule``, ``cosine_schedule``;
* :mod:`ddpm_lib.forward` — the OU process and its discrete VP chain;
* :mod:`ddpm_lib.mixtures` — Gaussian mixtures whose score is exact at every diffusion time;
* :mod:`ddpm_lib.samplers` — Langevin, reverse-time SDE, discrete backward, DDPM ancestral,
  probability-flow ODE;
* :mod:`ddpm_lib.metrics` — sliced Wasserstein, MMD, noise floors;
* :mod:`ddpm_lib.models`, :mod:`ddpm_lib.data`, :mod:`ddpm_lib.training`,
  :mod:`ddpm_lib.checkpoints` — a small denoiser, its data and its training;
* :mod:`ddpm_lib.verify` — the checking helpers every notebook uses.

The course tooling (exercises, ledger, student edition, grading, CLI) is the separate package
:mod:`ddpm_course`, which imports this one; nothing here imports it.
"""
from importlib import import_module
from typing import Any

# Submodules and names load on first use (PEP 562), so that ``import ddpm_lib.check_format`` (the
# ledger, at book-build time) does not load torch.
_SUBMODULES = ("checkpoints", "data", "devices", "evaluation", "forward", "metrics", "mixtures", "models",
               "samplers", "sampling", "schedules", "training", "verify")
_NAMES = {
    "Schedule": "schedules", "linear_schedule": "schedules", "scaled_linear_schedule": "schedules",
    "cosine_schedule": "schedules", "GaussianMixture": "mixtures", "EpsMLP": "models", "TinyUNet": "models",
    "make_dataset": "data", "TrainConfig": "training", "train": "training", "dsm_loss": "training",
    "sample": "sampling", "save_checkpoint": "checkpoints", "load_checkpoint": "checkpoints",
}
__all__ = list(_NAMES) + list(_SUBMODULES)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return import_module(f".{name}", __name__)
    if name in _NAMES:
        return getattr(import_module(f".{_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'ddpm_lib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__version__ = "0.1.0"
