"""Checkers for the book's coding exercises.

Each chapter has a module here (``ddpm_course.exercises.<chapter>``) that describes its
coding exercises (:class:`~ddpm_course.exercises._engine.Exercise`: the function's name, its
seeded cases, how it is called) **without their answers**. A checker runs the student's
function on the public cases and compares the plain results with data stored in
``data/<id>.json`` (the reference's outputs and those of the usual mistakes, written by
:mod:`ddpm_course.solutions`, which the student edition leaves out). It never raises on a
wrong answer: it names the mistake (a sign error, an off-by-one index, β in place of β̃ …)
in ``hint``. ``CHECKERS`` maps an exercise id (the ``{exercise}`` label in the book) to its
checker. The grader (:mod:`ddpm_course.grading`) does not trust this in-notebook check: it
calls the student's function in a sandbox on inputs of its own seed and judges outside.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

__all__ = ["Feedback", "CHECKERS", "register", "check", "load_all"]


@dataclass
class Feedback:
    """The result of checking one exercise: ``passed`` and a hint for the student."""

    exercise: str
    passed: bool
    hint: str

    def __str__(self) -> str:
        mark = "✔ correct" if self.passed else "✘ not yet"
        return f"[{self.exercise}] {mark}: {self.hint}"

    def _repr_pretty_(self, p, cycle) -> None:  # IPython shows the readable form
        p.text(str(self))


CHECKERS: dict[str, Callable[..., Feedback]] = {}


def register(exercise_id: str) -> Callable[[Callable[..., Feedback]], Callable[..., Feedback]]:
    """Decorator: register a checker under the exercise's id."""
    def deco(fn: Callable[..., Feedback]) -> Callable[..., Feedback]:
        CHECKERS[exercise_id] = fn
        return fn
    return deco


def load_all() -> None:
    """Import every chapter's module, so that ``CHECKERS`` and the exercise specs are complete."""
    from importlib import import_module
    import pkgutil

    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_"):
            import_module(f"{__name__}.{mod.name}")


def check(exercise_id: str, answer: Callable) -> Feedback:
    """Run the checker of ``exercise_id`` on ``answer`` (public cases); a crash in the answer is a failed Feedback."""
    load_all()
    if exercise_id not in CHECKERS:
        raise ValueError(f"unknown exercise id {exercise_id!r}; known: {sorted(CHECKERS)}")
    return CHECKERS[exercise_id](answer)  # the student's crashes become feedback inside
