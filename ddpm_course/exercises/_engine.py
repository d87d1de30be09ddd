"""Run an answer on an exercise's cases and judge the plain data that comes back.

The two halves never share a process when grading:

* :func:`probe` runs in the student's process (the notebook, or the grader's sandbox): it
  calls the student's function on the exercise's seeded cases and returns **plain data**
  (lists of floats, shapes, exception names; JSON-safe, no pickle).
* :func:`judge` compares that data with the expected data (the reference's outputs and each
  catalogued mistake's outputs on the same cases) and returns a :class:`Feedback`. It runs
  no student code. The expected data come either from ``data/<id>.json`` (the public seed,
  what ``check`` uses in a notebook) or from :mod:`ddpm_course.solutions`, which the grader
  imports in its own process and which the student edition does not contain.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import Feedback

__all__ = ["Exercise", "EXERCISES", "exercise", "probe", "encode", "judge", "public_expected", "MAX_VALUES"]

MAX_VALUES = 100_000          # floats per output: more is not an answer to these exercises
DATA_DIR = Path(__file__).with_name("data")


@dataclass(frozen=True)
class Exercise:
    """What a coding exercise asks for, without its answer.

    ``cases(seed)`` builds the inputs (``seed=None``: the public cases behind ``data/<id>.json``);
    ``probes`` maps a probe name to the arguments it calls the function with, from one case;
    ``quantities`` maps a name to a function of the probes' outputs (float64 tensors) that is
    judged on its own (e.g. ``mean`` = the output with ``z = 0``, ``noise`` = the difference),
    so that a wrong mean and a wrong noise scale are named separately.
    """

    id: str
    function: str
    params: tuple[str, ...]
    output: str
    cases: Callable[[int | None], list[tuple]]
    describe: Callable[[tuple], str]
    probes: dict[str, Callable[[tuple], tuple]] = field(default_factory=lambda: {"out": lambda c: c})
    quantities: dict[str, Callable[[dict], Any]] = field(default_factory=lambda: {"out": lambda p: p["out"]})
    unmatched: dict[str, str] = field(default_factory=dict)
    nan_hint: str = "check for a division by zero or the square root of a negative number."
    success: str = "your function agrees with the reference on every case."
    rtol: float = 1e-7
    atol: float = 1e-10


EXERCISES: dict[str, Exercise] = {}


def exercise(spec: Exercise) -> Exercise:
    """Register ``spec`` and its checker (``check(spec.id, fn)``) under ``spec.id``."""
    from . import register

    EXERCISES[spec.id] = spec

    def checker(answer: Callable) -> Feedback:
        return judge(spec, probe(spec, answer, None), public_expected(spec.id))

    checker.__name__ = f"check_{spec.function}"
    checker.__doc__ = f"Check ``{spec.function}({', '.join(spec.params)})`` against the public cases."
    register(spec.id)(checker)
    return spec


# ------------------------------------------------------------------ the student's side


def encode(value: Any) -> dict:
    """One returned value as plain data: a float64 array's shape and values, or what it was instead."""
    import torch

    if isinstance(value, tuple):
        return {"kind": "tuple"}
    try:
        t = torch.as_tensor(value, dtype=torch.float64)
    except Exception:  # noqa: BLE001 - anything not tensor-like is a wrong answer
        return {"kind": "type", "name": type(value).__name__}
    if t.numel() > MAX_VALUES:
        return {"kind": "too large", "shape": list(t.shape)}
    return {"kind": "tensor", "shape": list(t.shape), "values": t.detach().reshape(-1).tolist()}


def _clones(args: tuple) -> tuple[tuple, list]:
    import torch

    fresh = tuple(a.clone() if isinstance(a, torch.Tensor) else a for a in args)
    return fresh, [a.clone() if isinstance(a, torch.Tensor) else None for a in args]


def probe(spec: Exercise, answer: Any, seed: int | None) -> dict:
    """Call ``answer`` on every case and probe of ``spec``; plain data (see :func:`encode`)."""
    import torch

    if not callable(answer):
        return {"not_callable": type(answer).__name__}
    out = []
    for case in spec.cases(seed):
        row = {}
        for name, make_args in spec.probes.items():
            args, before = _clones(make_args(case))
            try:
                value = answer(*args)
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - a crash is feedback
                row[name] = {"kind": "raised", "message": f"{type(exc).__name__}: {str(exc)[:300]}"}
                continue
            changed = [spec.params[k] for k, (a, b) in enumerate(zip(args, before))
                       if b is not None and not (a.shape == b.shape and torch.equal(a, b))]
            row[name] = {"kind": "mutated", "arg": changed[0]} if changed else encode(value)
        out.append(row)
    return {"cases": out}


# ------------------------------------------------------------------ the judge's side


def public_expected(exercise_id: str) -> dict:
    """The expected data for the public cases, stored beside this module."""
    return json.loads((DATA_DIR / f"{exercise_id}.json").read_text(encoding="utf-8"))


def _tensor(enc: Any):
    import torch

    if not isinstance(enc, dict) or enc.get("kind") != "tensor":
        return None
    shape, values = enc.get("shape"), enc.get("values")
    if not (isinstance(shape, list) and all(isinstance(s, int) and s >= 0 for s in shape)
            and isinstance(values, list) and len(values) == math.prod(shape) <= MAX_VALUES
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)):
        return None
    return torch.tensor(values, dtype=torch.float64).reshape(shape)


def _quantities(spec: Exercise, row: Any) -> dict | None:
    """The judged quantities of one case, or ``None`` when a probe gave no array."""
    if not isinstance(row, dict):
        return None
    outs = {name: _tensor(row.get(name)) for name in spec.probes}
    if any(v is None for v in outs.values()):
        return None
    try:
        return {q: fn(outs) for q, fn in spec.quantities.items()}
    except RuntimeError:  # the probes' shapes do not combine
        return None


def _same(a, b, spec: Exercise) -> bool:
    import torch

    return a is not None and b is not None and a.shape == b.shape and bool(
        torch.allclose(a, b, rtol=spec.rtol, atol=spec.atol))


def judge(spec: Exercise, student: Any, expected: dict) -> Feedback:
    """The verdict on ``student`` (from :func:`probe`) against ``expected``; runs no student code."""
    ex = spec.id
    if isinstance(student, dict) and "not_callable" in student:
        return Feedback(ex, False, f"pass a function {spec.function}({', '.join(spec.params)}), "
                                   f"got {student['not_callable']}")
    rows = student.get("cases") if isinstance(student, dict) else None
    ref_rows = expected["reference"]
    if not isinstance(rows, list) or len(rows) != len(ref_rows):
        return Feedback(ex, False, "the grader could not read your function's results")
    crashed = []
    for k, row in enumerate(rows):
        encs = list(row.values()) if isinstance(row, dict) else []
        for enc in encs:
            kind = enc.get("kind") if isinstance(enc, dict) else None
            if kind == "raised":
                crashed.append((k, str(enc.get("message", ""))[:300]))
                break
            if kind == "mutated":
                return Feedback(ex, False, f"your function changed its input {enc.get('arg')} in place (e.g. with "
                                           "+=); return a new tensor and leave the inputs unchanged.")
            if kind == "tuple":
                return Feedback(ex, False, f"return only the tensor {spec.output}, not a tuple.")
            if kind == "type":
                return Feedback(ex, False, f"return a torch.Tensor ({spec.output}), got {enc.get('name')}.")
            if kind == "too large":
                return Feedback(ex, False, f"{spec.output} has shape {enc.get('shape')}: far too large.")
    cases = [k for k in range(len(rows)) if k not in {c for c, _ in crashed}]
    if not cases:
        return Feedback(ex, False, f"your function raised {crashed[0][1]}")
    mine = {k: _quantities(spec, rows[k]) for k in cases}
    ref = {k: _quantities(spec, ref_rows[k]) for k in cases}
    for k in cases:
        if mine[k] is None:
            return Feedback(ex, False, "the grader could not read your function's results")
        for q, value in mine[k].items():
            if not bool(value.isfinite().all()):
                return Feedback(ex, False, f"your answer has NaN or infinite entries ({spec.describe(_case(spec, k))}): "
                                           f"{spec.nan_hint}")
    wrong = {q: [k for k in cases if not _same(mine[k][q], ref[k][q], spec)] for q in spec.quantities}
    if not crashed and not any(wrong.values()):
        return Feedback(ex, True, spec.success)
    hints = []
    for q, ks in wrong.items():
        if not ks:
            continue
        named = _name_mistake(spec, expected, mine, ks, q)
        if named:
            hints.append(named)
            continue
        shapes = [k for k in ks if mine[k][q].shape != ref[k][q].shape]
        if shapes:
            k = shapes[0]
            hints.append(f"{spec.output} must have shape {tuple(ref[k][q].shape)}, got {tuple(mine[k][q].shape)} "
                         f"({spec.describe(_case(spec, k))}).")
            continue
        where = ", ".join(spec.describe(_case(spec, k)) for k in ks)
        hints.append(spec.unmatched.get(q, "the answer is wrong and matches none of the usual mistakes")
                     + f" (wrong at {where}).")
    if crashed:
        hints.insert(0, f"your function raised {crashed[0][1]} ({spec.describe(_case(spec, crashed[0][0]))}).")
    return Feedback(ex, False, " Also: ".join(hints))


def _case(spec: Exercise, k: int) -> tuple:
    return spec.cases(None)[k] if k < len(spec.cases(None)) else ()


def _name_mistake(spec: Exercise, expected: dict, mine: dict, wrong: list[int], q: str) -> str | None:
    """The hint of the first catalogued mistake whose quantity ``q`` equals the student's on every
    wrong case where the mistake is defined (at least one)."""
    for mistake in expected.get("mistakes", []):
        compared, matched = 0, True
        for k in wrong:
            row = mistake["cases"][k]
            if row is None:
                continue
            theirs = _quantities(spec, row)
            if theirs is None:
                continue
            compared += 1
            if not _same(mine[k][q], theirs[q], spec):
                matched = False
                break
        if matched and compared:
            return str(mistake["hint"])
    return None
