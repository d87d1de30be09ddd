"""Symbolic helpers for the book's derivations: Gaussian density, generator, probability current, Fokker–Planck.

All functions take and return SymPy expressions. The SDE is ``dx = f(x, t) dt + g(x, t) dW`` in
``R^d`` with a *scalar* noise coefficient ``g`` (the same in every coordinate, as everywhere in
the book). ``coords`` is one SymPy symbol (``d = 1``) or a sequence of ``d`` symbols, and
``drift`` is then one expression or a sequence of ``d`` expressions.

* :func:`generator`: ``L h = f · ∇h + (g²/2) Δh`` (the expected rate of change of ``h(x_t)``);
* :func:`probability_current`: ``J = f p − ½ ∇(g² p)``;
* :func:`fokker_planck`: ``∂p/∂t = −∇·J = −∇·(f p) + ½ Δ(g² p)``, the adjoint of the generator.

For constant ``g`` the last two reduce to ``J = f p − (g²/2) ∇p`` and ``−∇·(f p) + (g²/2) Δp``.
"""
from __future__ import annotations

from typing import Any

import sympy as sp

__all__ = ["gaussian_pdf", "generator", "probability_current", "fokker_planck", "score"]


def _coords(coords: Any) -> list[sp.Symbol]:
    seq = [coords] if isinstance(coords, sp.Basic) else list(coords) if isinstance(coords, (list, tuple)) else None
    if not seq or not all(isinstance(c, sp.Symbol) for c in seq):
        raise TypeError(f"coords must be a SymPy symbol or a non-empty list/tuple of symbols, got {coords!r}")
    return seq


def _drift(drift: Any, coords: list[sp.Symbol]) -> list[sp.Expr]:
    seq = list(drift) if isinstance(drift, (list, tuple, sp.MatrixBase)) else [drift]
    if len(seq) != len(coords):
        raise ValueError(f"drift has {len(seq)} components but there are {len(coords)} coordinates")
    return [sp.sympify(f) for f in seq]


def gaussian_pdf(x: Any, mean: Any, var: Any) -> sp.Expr:
    """Density of ``N(mean, var)`` at ``x`` (1-D): ``exp(−(x − mean)²/(2 var)) / √(2π var)``."""
    x, mean, var = sp.sympify(x), sp.sympify(mean), sp.sympify(var)
    if var.is_nonpositive:
        raise ValueError(f"var must be positive, got {var}")
    return sp.exp(-(x - mean) ** 2 / (2 * var)) / sp.sqrt(2 * sp.pi * var)


def generator(h: Any, drift: Any, g: Any, coords: Any) -> sp.Expr:
    """``L h = Σ_i f_i ∂_i h + (g²/2) Σ_i ∂_i² h``: by Itô's formula ``d E h(x_t) / dt = E L h(x_t)``."""
    xs = _coords(coords)
    fs = _drift(drift, xs)
    h, g = sp.sympify(h), sp.sympify(g)
    return sum(f * sp.diff(h, c) + g ** 2 / 2 * sp.diff(h, c, 2) for f, c in zip(fs, xs))


def probability_current(p: Any, drift: Any, g: Any, coords: Any) -> sp.Matrix:
    """``J = f p − ½ ∇(g² p)``, a ``(d, 1)`` matrix: transport by the drift minus spreading by the noise."""
    xs = _coords(coords)
    fs = _drift(drift, xs)
    p, g = sp.sympify(p), sp.sympify(g)
    return sp.Matrix([f * p - sp.diff(g ** 2 * p, c) / 2 for f, c in zip(fs, xs)])


def fokker_planck(p: Any, drift: Any, g: Any, coords: Any) -> sp.Expr:
    """Right-hand side of the Fokker–Planck equation, ``∂p/∂t = −∇·J = −∇·(f p) + ½ Δ(g² p)``."""
    xs = _coords(coords)
    J = probability_current(p, drift, g, xs)
    return -sum(sp.diff(J[i], c) for i, c in enumerate(xs))


def score(p: Any, coords: Any) -> Any:
    """``∇ log p``: one expression for a single symbol, a list of ``d`` expressions for a sequence."""
    xs = _coords(coords)
    grad = [sp.diff(sp.log(sp.sympify(p)), c) for c in xs]
    return grad[0] if isinstance(coords, sp.Basic) else grad

