"""How far a trained ε-model is from the exact one of a Gaussian mixture (float64 Monte Carlo)."""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from .devices import model_device
from .forward import q_sample
from .mixtures import GaussianMixture
from .schedules import Schedule
from .training import dsm_loss
from .validation import check_positive_int

__all__ = ["irreducible_loss", "eps_error_by_step"]


def irreducible_loss(mixture: GaussianMixture, schedule: Schedule, n_mc: int = 200_000,
                     generator: torch.Generator | None = None, chunk: int = 50_000) -> tuple[float, float]:
    """The DSM loss (:func:`~ddpm_lib.training.dsm_loss`) of the exact ``ε*`` of ``mixture`` (float64
    Monte Carlo over ``n_mc`` draws of ``x_0``, ``i``, ``ε``): ``(mean, standard error)``."""
    n_mc = check_positive_int(n_mc, "n_mc", minimum=2)
    chunk = check_positive_int(chunk, "chunk")
    eps_star = mixture.eps_fn(schedule)
    per = []
    done = 0
    while done < n_mc:
        m = min(chunk, n_mc - done)
        x0 = mixture.sample(m, generator=generator).to(torch.float64)
        per.append(dsm_loss(eps_star, x0, schedule, generator, reduction="none"))
        done += m
    v = torch.cat(per)
    return float(v.mean()), float(v.std() / math.sqrt(v.numel()))


@torch.no_grad()
def eps_error_by_step(model: nn.Module, mixture: GaussianMixture, schedule: Schedule, steps: list[int] | torch.Tensor,
                      n: int = 10_000, generator: torch.Generator | None = None) -> torch.Tensor:
    """Relative error ``‖ε_θ − ε*‖ / ‖ε*‖`` (over ``n`` draws of ``x_i``) at each step in ``steps`` → ``(len(steps),)``."""
    n = check_positive_int(n, "n")
    steps_t = schedule.check_step(torch.as_tensor(steps), "steps").reshape(-1).cpu()
    eps_star = mixture.eps_fn(schedule)
    device = model_device(model)
    was_training = model.training
    model.eval()
    out = []
    try:
        for i in steps_t.tolist():
            x0 = mixture.sample(n, generator=generator).to(torch.float64)
            xi, _ = q_sample(schedule, x0, i, generator=generator)
            ii = torch.full((n,), i, dtype=torch.long)
            star = eps_star(xi, ii).to(torch.float64)
            pred = model(xi.to(device), ii.to(device)).to(torch.float64).cpu()
            out.append(float(torch.linalg.vector_norm(pred - star) / torch.linalg.vector_norm(star)))
    finally:
        model.train(was_training)
    return torch.tensor(out, dtype=torch.float64)
