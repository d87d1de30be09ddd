"""Samplers: Langevin dynamics, the reverse-time SDE, the discrete backward chain, DDPM's ancestral
sampler, DDIM, and the probability-flow ODE (Heun, DPM-Solver++(2M)).

One signature for all (as k-diffusion's): ``sampler(fn, x, grid, *, generator=None, callback=None,
**options) -> x``. ``fn`` is a score ``score(x, t)`` (forward OU time ``t``) or an ε-prediction
``eps(x, i)`` (integer step ``i``), typed in :mod:`ddpm_lib.types`, so the exact score of
:mod:`ddpm_lib.mixtures` and a trained network are interchangeable. ``x`` is the start state.
``grid`` is an increasing grid of forward times in ``(0, T]`` (run from its last entry down to its
first) for the score samplers on continuous time, a :class:`~ddpm_lib.schedules.Schedule` (run from
step ``n`` to 0) for the chain samplers; :func:`langevin` runs ``n_steps`` steps of one size at one
time. ``callback(info)`` sees the start and every step: :class:`PathRecorder` and
:func:`sample_path` record the path, :func:`progress` draws a bar. A score or ε that returns NaN or
infinity stops the sampler with a ``ValueError`` naming the step.
"""
from ._common import PathRecorder, chain, progress, sample_path
from .convert import eps_from_score, on_original_steps, score_from_eps
from .ode import SPACINGS, ddim, dpm_solver_2m, dpm_step, karras_times, probability_flow_heun, schedule_steps
from .stochastic import ddpm_ancestral, discrete_backward, langevin, reverse_sde_euler

__all__ = ["langevin", "reverse_sde_euler", "discrete_backward", "ddpm_ancestral", "ddim", "probability_flow_heun",
           "dpm_solver_2m", "dpm_step", "karras_times", "schedule_steps", "SPACINGS", "on_original_steps",
           "score_from_eps", "eps_from_score", "PathRecorder", "sample_path", "progress", "chain"]
