"""How far a trained ε-model is from the exact one of a Gaussian mixture (float64 Monte Carlo)."""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from .devices import model_device
from .mixtures import GaussianMixture
from .schedules import Schedule
from .validation import check_positive_int

__all__ = ["irreducible_loss", "eps_error_by_step"]


def _coef_shape(x: torch.Tensor) -> tuple[int, ...]:
    return (x.shape[0],) + (1,) * (x.dim() - 1)


def irreducible_loss(mixture: GaussianMixture, schedule: Schedule, n_mc: int = 200_000,
                     generator: torch.Generator | None = None, chunk: int = 50_000) -> tuple[float, float]:
    """The DSM loss of the exact ``ε*`` of ``mixture`` (float64 Monte Carlo): ``(mean, standard error)``."""
    n_mc = check_positive_int(n_mc, "n_mc", minimum=2)
    eps_star = mixture.eps_fn(schedule)
    ab = schedule.alpha_bars.to(torch.float64)
    per = []
    done = 0
    while done < n_mc:
        m = min(chunk, n_mc - done)
        x0 = mixture.sample(m, generator=generator).to(torch.float64)
        i = torch.randint(1, schedule.n + 1, (m,), generator=generator)
        noise = torch.randn(x0.shape, generator=generator, dtype=torch.float64)
        a = ab[i].reshape(_coef_shape(x0))
        xi = a.sqrt() * x0 + (1 - a).sqrt() * noise
        err = (eps_star(xi, i).to(torch.float64) - noise) ** 2
        per.append(err.reshape(m, -1).mean(dim=1))
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
    ab = schedule.alpha_bars.to(torch.float64)
    device = model_device(model)
    was_training = model.training
    model.eval()
    out = []
    try:
        for i in steps_t.tolist():
            x0 = mixture.sample(n, generator=generator).to(torch.float64)
            noise = torch.randn(x0.shape, generator=generator, dtype=torch.float64)
            a = float(ab[i])
            xi = math.sqrt(a) * x0 + math.sqrt(1 - a) * noise
            ii = torch.full((n,), i, dtype=torch.long)
            star = eps_star(xi, ii).to(torch.float64)
            pred = model(xi.to(device), ii.to(device)).to(torch.float64).cpu()
            out.append(float(torch.linalg.vector_norm(pred - star) / torch.linalg.vector_norm(star)))
    finally:
        model.train(was_training)
    return torch.tensor(out, dtype=torch.float64)
