"""Checking helpers: every verified claim of the book goes through one of these.

Each check has a short ``name`` and a ``claim`` in words. It raises
:class:`VerificationError` (an ``AssertionError``) saying which claim failed and by how
much, or prints one line ``✔ <name>: <claim> [<method>]`` and records the check in the
ledger (:func:`ledger`), from which the book's appendix lists every verified claim.

``wrong_variant`` runs checks of a deliberately wrong statement and passes only if they
fail: the book uses it to show that a check can tell right from wrong.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import sympy
import torch

__all__ = [
    "VerificationError", "CheckRecord", "set_chapter", "symbolic_zero", "symbolic_equal", "close",
    "within_standard_errors", "less_than", "holds", "wrong_variant", "ledger", "summary", "reset",
]

CHECK_MARK = "✔"


class VerificationError(AssertionError):
    """A verified claim of the book turned out false."""


@dataclass
class CheckRecord:
    """One check as the ledger stores it."""

    chapter: str
    name: str
    claim: str
    method: str
    passed: bool
    detail: str = ""


_state: dict[str, Any] = {"chapter": "", "records": [], "quiet": 0}


def set_chapter(chapter: str) -> None:
    """Name the chapter that the following checks belong to (shown in the ledger)."""
    _state["chapter"] = str(chapter)


def reset() -> None:
    """Forget every recorded check (the tests use this)."""
    _state["records"] = []


def ledger() -> list[CheckRecord]:
    """Every check recorded in this session, in order."""
    return list(_state["records"])


def _record(name: str, claim: str, method: str, passed: bool, detail: str) -> None:
    if _state["quiet"]:
        if not passed:
            raise VerificationError(f"check '{name}' failed: {claim} — {detail}")
        return
    rec = CheckRecord(_state["chapter"], name, claim, method, passed, detail)
    _state["records"].append(rec)
    if not passed:
        raise VerificationError(f"check '{name}' failed: {claim} — {detail}")
    print(f"{CHECK_MARK} {name}: {claim} [{method}]")


def _to_float_array(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=float)


def _fmt(x: float) -> str:
    return f"{x:.2g}" if x != 0 else "0"


def _clearly_nonzero(expr: sympy.Expr) -> bool:
    """True when ``expr`` evaluates to a clearly non-zero number at a random point.

    A cheap refutation before the slow simplifiers: symbols get values in (0.3, 1.7),
    which respects the assumptions (positive, real) that the book's symbols carry, and
    unknown functions are left alone (then the test is skipped).
    """
    if expr.atoms(sympy.Function) - expr.atoms(sympy.functions.elementary.exponential.exp,
                                               sympy.functions.elementary.exponential.log,
                                               sympy.functions.elementary.trigonometric.TrigonometricFunction,
                                               sympy.functions.elementary.miscellaneous.Max,
                                               sympy.functions.elementary.miscellaneous.Min):
        return False
    if expr.atoms(sympy.Derivative, sympy.Integral, sympy.Sum, sympy.Product, sympy.Limit):
        return False
    rng = np.random.default_rng(12345)
    for _ in range(2):
        point = {sym: sympy.Float(rng.uniform(0.3, 1.7)) for sym in expr.free_symbols}
        try:
            value = complex(expr.evalf(30, subs=point))
        except (TypeError, ValueError, ZeroDivisionError):
            return False
        if not (math.isfinite(value.real) and math.isfinite(value.imag)) or abs(value) < 1e-8:
            return False
    return True


def _simplify_to_zero(expr: Any) -> bool:
    if isinstance(expr, sympy.MatrixBase):
        return all(_simplify_to_zero(e) for e in expr)
    expr = sympy.sympify(expr)
    if expr == 0:
        return True
    if _clearly_nonzero(expr):
        return False
    for simp in (sympy.simplify, lambda e: sympy.simplify(sympy.expand(e)), sympy.powsimp, sympy.nsimplify):
        try:
            if simp(expr) == 0:
                return True
        except Exception:  # noqa: BLE001 - try the next simplifier
            continue
    return False


def symbolic_zero(name: str, expr: Any, claim: str) -> None:
    """Check that a SymPy expression (or matrix) simplifies to exactly 0."""
    ok = _simplify_to_zero(expr)
    detail = "" if ok else f"the expression simplifies to {sympy.simplify(expr)}, not 0"
    _record(name, claim, "symbolic", ok, detail)


def symbolic_equal(name: str, lhs: Any, rhs: Any, claim: str) -> None:
    """Check that two SymPy expressions are identical (their difference simplifies to 0)."""
    if isinstance(lhs, sympy.MatrixBase) or isinstance(rhs, sympy.MatrixBase):
        diff = sympy.Matrix(lhs) - sympy.Matrix(rhs)
    else:
        diff = sympy.sympify(lhs) - sympy.sympify(rhs)
    ok = _simplify_to_zero(diff)
    detail = "" if ok else f"lhs − rhs simplifies to {sympy.simplify(diff)}, not 0"
    _record(name, claim, "symbolic", ok, detail)


def close(name: str, actual: Any, expected: Any, claim: str, *, atol: float = 0.0, rtol: float = 0.0,
          why: str) -> None:
    """Check ``|actual − expected| ≤ atol + rtol·|expected|`` elementwise; ``why`` justifies the tolerance."""
    if atol < 0 or rtol < 0 or (atol == 0 and rtol == 0):
        raise ValueError("close() needs a tolerance: atol >= 0 and rtol >= 0, not both 0")
    a, e = _to_float_array(actual), _to_float_array(expected)
    if a.shape != e.shape and a.size != 1 and e.size != 1:
        raise ValueError(f"actual and expected must have the same shape, got {a.shape} and {e.shape}")
    err = np.abs(a - e)
    bound = atol + rtol * np.abs(e)
    ok = bool(np.all(np.isfinite(a)) and np.all(err <= bound))
    worst = float(np.max(np.where(np.isnan(err), np.inf, err))) if err.size else 0.0
    tol = " + ".join(s for s in (f"{_fmt(atol)}" if atol else "", f"{_fmt(rtol)}·|expected|" if rtol else "") if s)
    detail = f"max error {_fmt(worst)} against tolerance {tol} ({why})"
    _record(name, claim, f"numeric, tolerance {tol}: {why}", ok, detail)


def within_standard_errors(name: str, estimate: Any, expected: Any, std_error: Any, claim: str,
                           k: float = 4.0) -> None:
    """Monte Carlo check: ``|estimate − expected| ≤ k · std_error`` (k = 4 fails by chance < 1e-4)."""
    est, exp_, se = _to_float_array(estimate), _to_float_array(expected), _to_float_array(std_error)
    if np.any(se <= 0) or not np.all(np.isfinite(se)):
        raise ValueError("std_error must be finite and > 0")
    z = np.abs(est - exp_) / se
    ok = bool(np.all(np.isfinite(est)) and np.all(z <= k))
    detail = f"the estimate is {_fmt(float(np.max(z)))} standard errors away; allowed {k:g}"
    _record(name, claim, f"Monte Carlo, within {k:g} standard errors", ok, detail)


def less_than(name: str, value: Any, bound: Any, claim: str, *, why: str) -> None:
    """Check ``value < bound`` (elementwise); ``why`` says where the bound comes from."""
    v, b = _to_float_array(value), _to_float_array(bound)
    ok = bool(np.all(np.isfinite(v)) and np.all(v < b))
    detail = f"value {_fmt(float(np.max(v)))} is not below the bound {_fmt(float(np.min(b)))} ({why})"
    _record(name, claim, f"numeric bound: {why}", ok, detail)


def holds(name: str, condition: Any, claim: str, *, detail: str = "") -> None:
    """Check a boolean condition (a bool, or a tensor/array that must be all true)."""
    if isinstance(condition, torch.Tensor):
        ok = bool(condition.all())
    elif isinstance(condition, np.ndarray):
        ok = bool(condition.all())
    else:
        ok = bool(condition)
    _record(name, claim, "numeric", ok, detail or "the condition is false")


@contextmanager
def wrong_variant(name: str, claim: str) -> Iterator[None]:
    """Run checks of a deliberately wrong statement inside; pass only if one of them fails.

    The inner checks print nothing and are not recorded; the ledger records that the
    wrong variant was rejected.
    """
    _state["quiet"] += 1
    failure: VerificationError | None = None
    try:
        yield
    except VerificationError as exc:
        failure = exc
    finally:
        _state["quiet"] -= 1
    if failure is None:
        _record(name, f"the wrong variant is rejected: {claim}", "wrong variant", False,
                "the checks of the wrong variant all passed, so they cannot tell right from wrong")
    else:
        _record(name, f"the wrong variant is rejected: {claim}", "wrong variant", True, str(failure))


def summary(expected: int | None = None) -> None:
    """Print how many checks of the current chapter passed; with ``expected``, insist on that count."""
    recs = [r for r in _state["records"] if r.chapter == _state["chapter"]]
    passed = sum(r.passed for r in recs)
    if expected is not None and len(recs) != expected:
        raise VerificationError(f"chapter '{_state['chapter']}' ran {len(recs)} checks, expected {expected}: "
                                f"a check cell was skipped or added without updating the count")
    print(f"{passed} of {len(recs)} checks in '{_state['chapter']}' passed.")
