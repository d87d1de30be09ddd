"""Checkers for the book's coding exercises.

Each chapter has a module here (``ddpm_course.exercises.<chapter>``) whose checkers take the
student's function, run it on cases with known answers and return a :class:`Feedback`.
A checker never raises on a wrong answer: it diagnoses the mistake (a sign error, an
off-by-one index, β in place of β̃ …) and says so in ``hint``. ``CHECKERS`` maps an
exercise id (the ``{exercise}`` label in the book) to its checker, for the grader.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

__all__ = ["Feedback", "CHECKERS", "register", "check"]


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


def check(exercise_id: str, answer: Callable) -> Feedback:
    """Run the checker of ``exercise_id`` on ``answer``; a crash in the answer becomes a failed Feedback."""
    from importlib import import_module
    import pkgutil

    for mod in pkgutil.iter_modules(__path__):
        import_module(f"{__name__}.{mod.name}")
    if exercise_id not in CHECKERS:
        raise ValueError(f"unknown exercise id {exercise_id!r}; known: {sorted(CHECKERS)}")
    try:
        feedback = CHECKERS[exercise_id](answer)
    except Exception as exc:  # noqa: BLE001 - a student's crash is feedback, not an error
        feedback = Feedback(exercise_id, False, f"your function raised {type(exc).__name__}: {exc}")
    _log_for_grading(feedback)
    return feedback


def _log_for_grading(feedback: Feedback) -> None:
    """Append the result as a JSON line to $DDPM_GRADING_LOG when set (``ddpm_course.grading``)."""
    import json
    import os

    path = os.environ.get("DDPM_GRADING_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"exercise": feedback.exercise, "passed": bool(feedback.passed),
                                "hint": str(feedback.hint)}) + "\n")
