"""Pieces shared by the exercise checkers: comparing answers and naming the mistake."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import torch


def close(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Same shape and equal up to float64 round-off (rtol 1e-7, atol 1e-10)."""
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=1e-7, atol=1e-10))


def as_output(out: Any, x: torch.Tensor, name: str, nan_hint: str) -> tuple[torch.Tensor | None, str]:
    """The student's return value as a float64 tensor shaped like ``x``, or ``(None, hint)``."""
    if isinstance(out, tuple):
        return None, f"return only the tensor {name}, not a tuple."
    try:
        out = torch.as_tensor(out, dtype=torch.float64)
    except Exception:  # noqa: BLE001 - anything not tensor-like is a wrong answer
        return None, f"return a tensor shaped like x, got {type(out).__name__}."
    if out.shape != x.shape:
        return None, f"{name} must have the shape of x, {tuple(x.shape)}; got {tuple(out.shape)}."
    if not bool(torch.isfinite(out).all()):
        return None, f"your answer has NaN or infinite entries: {nan_hint}"
    return out, ""


def name_the_mistake(failures: Sequence[tuple[Any, torch.Tensor]],
                     mistakes: Sequence[tuple[str, Callable[..., Any], str]],
                     guess: Callable[[Callable[..., Any], Any], torch.Tensor | None]) -> str | None:
    """The hint of the first catalogued mistake that reproduces every failing output, else ``None``.

    ``failures`` holds ``(case, output)`` pairs; ``mistakes`` holds ``(key, make, hint)``;
    ``guess(make, case)`` is the output that mistake gives on ``case`` (``None`` where the
    mistake is undefined, e.g. ``ᾱ_{i−1}`` at ``i = 0``; such cases are skipped).
    """
    for _, make, hint in mistakes:
        compared, matched = 0, True
        for case, out in failures:
            g = guess(make, case)
            if g is None:
                continue
            compared += 1
            if not close(out, g):
                matched = False
                break
        if matched and compared:
            return hint
    return None


def name_the_noise_mistake(wrong_noise: Sequence[tuple[torch.Tensor, int, torch.Tensor]],
                           mistakes: Sequence[tuple[str, Callable[..., Any], str]], schedule: Any) -> str | None:
    """The hint of the first catalogued noise scale ``k(schedule, i)`` with ``noise == k · z`` on every case.

    ``wrong_noise`` holds ``(noise part of the answer, step i, z)``; ``mistakes`` holds
    ``(key, coefficient(schedule, i), hint)`` (a coefficient of ``None`` skips that case).
    """
    for _, coef_fn, hint in mistakes:
        triples = [(d, coef_fn(schedule, i), z) for d, i, z in wrong_noise]
        triples = [(d, k, z) for d, k, z in triples if k is not None]
        if triples and all(close(d, k * z) for d, k, z in triples):
            return hint
    return None
