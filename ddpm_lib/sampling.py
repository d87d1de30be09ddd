"""Drawing samples from a trained ε-model: :func:`sample` with a named sampler."""
from __future__ import annotations

import torch
import torch.nn as nn

from .devices import model_device
from .samplers import ddim, ddpm_ancestral
from .schedules import Schedule
from .validation import check_positive_int

__all__ = ["sample", "SAMPLERS"]

SAMPLERS = ("ancestral", "ddim")


@torch.no_grad()
def sample(model: nn.Module, schedule: Schedule, n: int, shape: tuple[int, ...] | torch.Size,
           generator: torch.Generator | None = None, sampler: str = "ancestral", variance: str = "beta",
           steps: int | None = None) -> torch.Tensor:
    """Draw ``n`` samples of shape ``shape`` from ``model`` → ``(n, *shape)`` float32 on the model's device.

    ``sampler="ancestral"`` runs :func:`ddpm_lib.samplers.ddpm_ancestral` over all ``n`` steps
    (``variance`` ``"beta"`` or ``"beta_tilde"``); ``"ddim"`` runs deterministic DDIM over ``steps``
    steps (default ``schedule.n``). ``generator`` must live on the model's device (CPU by default).
    """
    n = check_positive_int(n, "n")
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; known: {', '.join(SAMPLERS)}")
    device = model_device(model)
    gdev = generator.device if generator is not None else torch.device("cpu")
    if generator is not None and gdev.type != device.type:
        raise ValueError(f"the generator is on {gdev} but the model is on {device}; pass a generator on "
                         f"the model's device")
    dtype = next(model.parameters()).dtype
    was_training = model.training
    model.eval()
    try:
        x_n = torch.randn((n,) + tuple(shape), generator=generator, device=device, dtype=dtype)
        sched = schedule.to(dtype=torch.float64)

        def eps(x: torch.Tensor, i: int | torch.Tensor) -> torch.Tensor:
            return model(x, i)

        if sampler == "ancestral":
            out = ddpm_ancestral(eps, sched, x_n, generator=generator, variance=variance)
        else:
            out = ddim(eps, sched, x_n, steps)
    finally:
        model.train(was_training)
    return out.to(dtype)
