"""Every registered exercise checker gives a failing Feedback, never an exception, for the stub
that the student edition hands out (``raise NotImplementedError(...)``).

The chapters' own tests check that the reference solutions pass and that plausible wrong
answers fail with a hint naming the mistake; this test covers every checker at once,
including ones added later.
"""
from __future__ import annotations

import importlib
import pkgutil

import pytest

from ddpm_course import exercises
from ddpm_course.exercises import CHECKERS, Feedback, check
from ddpm_course.student import STUB

for _mod in pkgutil.iter_modules(exercises.__path__):
    importlib.import_module(f"{exercises.__name__}.{_mod.name}")
EXERCISES = sorted(CHECKERS)


def stub(*args, **kwargs):
    """What a student's notebook holds before the exercise is done."""
    exec(STUB)


def test_there_are_exercises():
    assert EXERCISES, "no exercise checker is registered in ddpm_course.exercises"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_the_stub_fails_with_feedback(exercise, monkeypatch):
    monkeypatch.delenv("DDPM_GRADING_LOG", raising=False)
    feedback = check(exercise, stub)          # must not raise
    assert isinstance(feedback, Feedback)
    assert not feedback.passed
    assert feedback.exercise == exercise
    hint = str(feedback.hint)
    assert "NotImplementedError" in hint or "not implemented" in hint.lower(), \
        f"the hint should tell the student the function is not written yet: {feedback.hint!r}"
    assert str(feedback)                      # printable in a notebook


@pytest.mark.parametrize("exercise", EXERCISES)
def test_the_stub_is_logged_for_the_grader(exercise, tmp_path, monkeypatch):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv("DDPM_GRADING_LOG", str(log))
    check(exercise, stub)
    import json

    [line] = log.read_text().splitlines()
    rec = json.loads(line)
    assert rec["exercise"] == exercise and rec["passed"] is False
