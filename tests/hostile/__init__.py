"""Hostile submissions for the grader's tests (``tests/test_grading_hostile.py``).

:func:`build.build` writes them, with honest neighbours, from the student edition of the
Langevin chapter: each keeps the chapter's stub and checker cells and adds one trick.
"""
