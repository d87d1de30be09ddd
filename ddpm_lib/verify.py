"""Checking helpers: every verified claim of the book goes through one of these.

Each check has a short ``name`` and a ``claim`` in words. It raises
:class:`VerificationError` (an ``AssertionError``) saying which claim failed and by how
much, or records the check (:func:`ledger`) and shows one line
``✔ <name>: <claim> [<method>]``. In a notebook the line is a display output that also
carries the record itself as JSON (MIME type :data:`RECORD_MIME`): the book's ledger
appendix (``ddpm_course.ledger``) reads those records, not the text.

``wrong_variant`` runs checks of a deliberately wrong statement and passes only if they
fail: the book uses it to show that a check can tell right from wrong. ``unchecked``
records a stated step that has no check (the book's build refuses those in a chapter).
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Iterator

import numpy as np
import sympy
import torch

__all__ = [
    "VerificationError", "CheckRecord", "set_chapter", "symbolic_zero", "symbolic_equal", "close",
    "within_standard_errors", "less_than", "holds", "wrong_variant", "unchecked", "ledger", "summary", "reset",
    "CHECK_MARK", "UNCHECKED_MARK", "RECORD_MIME", "SUMMARY_FORMAT", "WRONG_VARIANT_PREFIX",
]

# the record format, shared with the ledger (ddpm_course.ledger) through a module without torch
from .check_format import CHECK_MARK, RECORD_MIME, SUMMARY_FORMAT, UNCHECKED_MARK, WRONG_VARIANT_PREFIX  # noqa: E402


class VerificationError(AssertionError):
    """A verified claim of the book turned out false."""


@dataclass
class CheckRecord:
    """One check (or unchecked step) as the ledger stores it.

    ``kind`` is ``"check"``, ``"wrong variant"`` (a deliberately wrong statement that the
    checks rejected) or ``"unchecked"`` (a stated step with no check; ``detail`` says why).
    """

    chapter: str
    name: str
    claim: str
    method: str
    passed: bool
    detail: str = ""
    kind: str = "check"

    @property
    def status(self) -> str:
        """``"passed"``, ``"failed"`` or ``"unchecked"``."""
        return "unchecked" if self.kind == "unchecked" else ("passed" if self.passed else "failed")

    def line(self) -> str:
        """The line a reader sees under the cell."""
        if self.kind == "unchecked":
            return f"{UNCHECKED_MARK} {self.name}: {self.claim} [unchecked: {self.detail}]"
        claim = WRONG_VARIANT_PREFIX + self.claim if self.kind == "wrong variant" else self.claim
        return f"{CHECK_MARK} {self.name}: {claim} [{self.method}]"

    def payload(self) -> dict[str, Any]:
        """The JSON record shown as :data:`RECORD_MIME` (no numbers that vary between runs)."""
        rec = {k: v for k, v in asdict(self).items() if k not in ("passed", "detail")}
        rec.update(type="check", status=self.status)
        if self.kind == "unchecked":
            rec["reason"] = self.detail
        return rec


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


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _emit(text: str, payload: dict[str, Any]) -> None:
    """Show ``text``; in a notebook kernel also store ``payload`` beside it as :data:`RECORD_MIME`."""
    if _in_kernel():
        from IPython.display import display

        display({"text/plain": text, RECORD_MIME: payload}, raw=True)
    else:
        print(text)


def _record(name: str, claim: str, method: str, passed: bool, detail: str, kind: str = "check") -> None:
    label = WRONG_VARIANT_PREFIX + claim if kind == "wrong variant" else claim
    if _state["quiet"]:
        if not passed:
            raise VerificationError(f"check '{name}' failed: {label} — {detail}")
        return
    rec = CheckRecord(_state["chapter"], name, claim, method, passed, detail, kind)
    _state["records"].append(rec)
    if not passed:
        raise VerificationError(f"check '{name}' failed: {label} — {detail}")
    _emit(rec.line(), rec.payload())


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
                           k: float = 4.0, *, why: str = "") -> None:
    """Monte Carlo check: ``|estimate − expected| ≤ k · std_error`` (k = 4 fails by chance < 1e-4).

    ``why`` states the check's false-alarm probability (and anything else the tolerance rests on).
    """
    est, exp_, se = _to_float_array(estimate), _to_float_array(expected), _to_float_array(std_error)
    if np.any(se <= 0) or not np.all(np.isfinite(se)):
        raise ValueError("std_error must be finite and > 0")
    z = np.abs(est - exp_) / se
    ok = bool(np.all(np.isfinite(est)) and np.all(z <= k))
    detail = f"the estimate is {_fmt(float(np.max(z)))} standard errors away; allowed {k:g}"
    _record(name, claim, f"Monte Carlo, within {k:g} standard errors" + (f": {why}" if why else ""), ok, detail)


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
        _record(name, claim, "wrong variant", False,
                "the checks of the wrong variant all passed, so they cannot tell right from wrong", "wrong variant")
    else:
        _record(name, claim, "wrong variant", True, str(failure), "wrong variant")


def unchecked(name: str, claim: str, reason: str) -> None:
    """Record a stated step that has no check, and say why; the ledger lists it as unchecked.

    Allowed in the errata appendix; in a chapter the book's build warns (so ``-W`` fails).
    """
    if not str(reason).strip():
        raise ValueError("unchecked() needs a reason: say why the step has no check")
    _record(name, claim, "unchecked", True, str(reason), "unchecked")


def summary(expected: int | None = None) -> None:
    """Show how many checks of the current chapter passed; with ``expected``, insist on that count.

    Unchecked steps (:func:`unchecked`) are not checks: they are counted apart.
    """
    recs = [r for r in _state["records"] if r.chapter == _state["chapter"]]
    checks = [r for r in recs if r.kind != "unchecked"]
    n_unchecked = len(recs) - len(checks)
    passed = sum(r.passed for r in checks)
    if expected is not None and len(checks) != expected:
        raise VerificationError(f"chapter '{_state['chapter']}' ran {len(checks)} checks, expected {expected}: "
                                f"a check cell was skipped or added without updating the count")
    text = SUMMARY_FORMAT.format(passed=passed, run=len(checks), chapter=_state["chapter"])
    if n_unchecked:
        text += f" {n_unchecked} stated step{'s are' if n_unchecked > 1 else ' is'} not checked."
    _emit(text, {"type": "summary", "chapter": _state["chapter"], "passed": passed, "run": len(checks),
                 "unchecked": n_unchecked})
