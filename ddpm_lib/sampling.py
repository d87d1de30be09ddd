"""Drawing samples from a trained ε-model: :func:`sample` with a named sampler from :data:`SAMPLERS`."""
from __future__ import annotations

from functools import partial
from typing import Any, Callable

import torch
import torch.nn as nn

from .devices import model_device
from .samplers import ddim, ddpm_ancestral, dpm_solver_2m, on_original_steps
from .schedules import Schedule
from .types import Callback
from .validation import check_positive_int

__all__ = ["sample", "SAMPLERS", "DEFAULT_SAMPLER", "DEFAULT_STEPS", "SDE_ETA"]

#: the noise level η of "dpm++2m-sde" (0: the probability-flow ODE, 1: the reverse SDE)
SDE_ETA = 0.25
#: name -> an ε-sampler ``sampler(eps, x, schedule, *, generator, callback, **options)``
SAMPLERS: dict[str, Callable[..., torch.Tensor]] = {
    "dpm++2m-sde": partial(dpm_solver_2m, eta=SDE_ETA), "dpm++2m": dpm_solver_2m, "ancestral": ddpm_ancestral,
    "ddim": ddim}
#: the default: DPM-Solver++(2M) with a little noise (η = SDE_ETA), log-SNR grid, DEFAULT_STEPS calls.
#: On 8 trained EpsMLPs (ring and moons, 2 seeds, TrainConfig() defaults or batch 1024 + cosine lr;
#: benchmarks/sampler_eta.py, 10 paired runs each) its SWD at 25 calls is 0.98 ± 0.08× the 1000-step
#: ancestral sampler's (range 0.87–1.12), at 1/40 of the cost; η = 0 (the probability-flow ODE) is at
#: 1.11 ± 0.07×, η = 0.5 at 1.01 ± 0.10×. The flow carries the network's errors to the end; a little noise
#: lets later steps wash part of them out.
DEFAULT_SAMPLER = "dpm++2m-sde"
#: network calls of the few-step samplers when ``steps`` is not given
DEFAULT_STEPS = 25


def _check_model(model: Any, schedule: Any, shape: tuple[int, ...]) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a ddpm_lib.Schedule, got {type(schedule).__name__}")
    n_model = getattr(model, "n_steps", None)
    if n_model is not None and n_model != schedule.n:
        raise ValueError(f"the schedule has n = {schedule.n} steps but the model was built for n_steps = {n_model}; "
                         "sample with the schedule it was trained on")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shape):
        raise ValueError(f"shape must be a tuple of positive ints, got {shape}")
    want = None
    if hasattr(model, "image_size") and hasattr(model, "channels"):
        want = (model.channels, model.image_size, model.image_size)
    elif isinstance(getattr(model, "dim", None), int):
        want = (model.dim,)
    if want is not None and shape != want:
        raise ValueError(f"shape must be {want} for this model, got {shape}")


def sample(model: nn.Module, schedule: Schedule, n: int, shape: tuple[int, ...] | torch.Size,
           generator: torch.Generator | None = None, sampler: str = DEFAULT_SAMPLER, variance: str = "beta",
           steps: int | None = None, callback: Callback | None = None) -> torch.Tensor:
    """Draw ``n`` samples of shape ``shape`` from ``model`` → ``(n, *shape)`` in the model's dtype and device.

    ``sampler="dpm++2m-sde"`` (default, :data:`DEFAULT_SAMPLER`) runs DPM-Solver++(2M)
    (:func:`ddpm_lib.samplers.dpm_solver_2m`) in its stochastic form with noise ``η =`` :data:`SDE_ETA`
    (``generator`` draws the start ``x_n``, then this noise), ``"dpm++2m"`` its deterministic form (the
    probability-flow ODE; ``generator`` draws only ``x_n``), both with ``steps`` network
    calls (default :data:`DEFAULT_STEPS`, or all ``schedule.n`` steps if fewer); ``"ancestral"`` runs DDPM's
    sampler over all ``n`` steps, or over ``steps`` respaced steps (:meth:`Schedule.respace`), ``variance``
    ``"beta"`` or ``"beta_tilde"``; ``"ddim"`` runs deterministic DDIM over ``steps`` steps (default ``schedule.n``).
    ``generator`` must live on the model's device (CPU by default).
    """
    n = check_positive_int(n, "n")
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; known: {', '.join(SAMPLERS)}")
    if not isinstance(shape, (tuple, list, torch.Size)):
        raise TypeError(f"shape must be a tuple of positive ints, got {type(shape).__name__}")
    shape = tuple(shape)  # as given: int(True) would let a bool through the check below
    _check_model(model, schedule, shape)
    options: dict[str, Any] = {}
    sched, eps = schedule.to(dtype=torch.float64), model
    if sampler == "ancestral":
        options["variance"] = variance
        if steps is not None and steps != schedule.n:  # DDPM on k respaced steps (schedule.respace)
            sched, taus = sched.respace(check_positive_int(steps, "steps"))
            eps = on_original_steps(model, taus)
    else:
        # a schedule shorter than DEFAULT_STEPS is run over all its steps
        options["steps"] = min(DEFAULT_STEPS, schedule.n) if (steps is None and sampler.startswith("dpm")) else steps
    device = model_device(model)
    gdev = generator.device if generator is not None else torch.device("cpu")
    if generator is not None and gdev.type != device.type:
        raise ValueError(f"the generator is on {gdev} but the model is on {device}; pass a generator on "
                         f"the model's device")
    dtype = next(model.parameters()).dtype
    was_training = model.training
    model.eval()
    try:  # no_grad inside the body, not as a decorator: mutmut leaves decorated functions unmutated
        with torch.no_grad():
            x_n = torch.randn((n,) + shape, generator=generator, device=device, dtype=dtype)
            out = SAMPLERS[sampler](eps, x_n, sched, generator=generator, callback=callback, **options)
    finally:
        model.train(was_training)
    return out.to(dtype)
