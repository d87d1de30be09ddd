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
from . import checkpoints, data, devices, evaluation, forward, metrics, mixtures, models, samplers, sampling, training, verify
from .checkpoints import load_checkpoint, save_checkpoint
from .data import make_dataset
from .mixtures import GaussianMixture
from .models import EpsMLP, TinyUNet
from .schedules import Schedule, cosine_schedule, linear_schedule, scaled_linear_schedule
from .sampling import sample
from .training import TrainConfig, dsm_loss, train

__all__ = [
    "Schedule", "linear_schedule", "scaled_linear_schedule", "cosine_schedule", "GaussianMixture", "EpsMLP", "TinyUNet",
    "make_dataset", "TrainConfig", "train", "dsm_loss", "sample", "save_checkpoint", "load_checkpoint",
    "forward", "mixtures", "samplers", "sampling", "devices", "evaluation", "metrics", "models", "data", "training", "checkpoints", "verify",
]
__version__ = "0.1.0"
