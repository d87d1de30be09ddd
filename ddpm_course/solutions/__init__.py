"""The reference solutions of the coding exercises and their catalogues of usual mistakes.

**Instructor-only**: the student edition (``scripts/student_edition.sh``) leaves this package
out of its notebooks, its HTML and the package source it hands out, and the grader's sandbox
hides it. The grader imports it in its own process to compute, on inputs of its own seed,
what each exercise's function must return (:func:`expected`).

Each chapter module holds ``SOLUTIONS = {exercise id: (reference, mistakes)}`` where
``reference`` has the signature the exercise asks for and ``mistakes`` lists
``(name, wrong function of the same signature (None where undefined), hint)``.

``python -m ddpm_course.solutions`` rewrites ``ddpm_course/exercises/data/<id>.json``, the
expected data of the public cases that ``check`` uses in the notebooks.
"""
from __future__ import annotations

import json
import sys
from typing import Callable

__all__ = ["SOLUTIONS", "load", "expected", "write_public_data", "main"]

SOLUTIONS: dict[str, tuple[Callable, list]] = {}


def load() -> dict[str, tuple[Callable, list]]:
    """Every chapter's solutions, by exercise id."""
    from importlib import import_module
    import pkgutil

    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_"):
            SOLUTIONS.update(getattr(import_module(f"{__name__}.{mod.name}"), "SOLUTIONS", {}))
    return SOLUTIONS


def _known_rows(spec, fn: Callable, seed: int | None) -> list:
    """Like :func:`~ddpm_course.exercises._engine.probe` for trusted code; a case where ``fn``
    returns ``None`` (a mistake undefined there) becomes ``None``."""
    from ddpm_course.exercises._engine import encode

    rows = []
    for case in spec.cases(seed):
        outs = {name: fn(*make(case)) for name, make in spec.probes.items()}
        rows.append(None if any(v is None for v in outs.values()) else {n: encode(v) for n, v in outs.items()})
    return rows


def expected(exercise_id: str, seed: int | None) -> dict:
    """The reference's and each mistake's outputs on the cases of ``seed`` (``None``: the public cases)."""
    import torch

    from ddpm_course.exercises import load_all
    from ddpm_course.exercises._engine import EXERCISES

    load_all()
    load()
    spec = EXERCISES[exercise_id]
    reference, mistakes = SOLUTIONS[exercise_id]
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return {"id": exercise_id, "seed": seed, "reference": _known_rows(spec, reference, seed),
                "mistakes": [{"name": name, "hint": hint, "cases": _known_rows(spec, wrong, seed)}
                             for name, wrong, hint in mistakes]}
    finally:
        torch.set_default_dtype(old)


def write_public_data() -> list[str]:
    """Rewrite ``exercises/data/<id>.json`` for every exercise; the ids written."""
    from ddpm_course.exercises._engine import DATA_DIR

    DATA_DIR.mkdir(exist_ok=True)
    ids = sorted(load())
    for ex in ids:
        text = json.dumps(expected(ex, None), ensure_ascii=False, sort_keys=True)
        (DATA_DIR / f"{ex}.json").write_text(text + "\n", encoding="utf-8")
    return ids


def main(argv: list[str] | None = None) -> int:
    ids = write_public_data()
    print(f"public expected data written for {len(ids)} exercises: {', '.join(ids)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
