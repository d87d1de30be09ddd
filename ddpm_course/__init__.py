"""ddpm_course: the course tooling around the book, apart from the mathematics in :mod:`ddpm_lib`.

* :mod:`ddpm_course.exercises` — the registry and cases of the coding exercises, with public
  reference values as data (``exercises/data``), so the student edition ships no solution;
* :mod:`ddpm_course.solutions` — the reference solutions (stripped from the student edition);
* :mod:`ddpm_course.ledger` — reads the verification ledger out of executed notebooks (no torch);
* :mod:`ddpm_course.student` — the student edition (solutions removed);
* :mod:`ddpm_course.grading` — grading a folder of submitted notebooks, each in a bubblewrap sandbox;
* :mod:`ddpm_course.doctor`, :mod:`ddpm_course.cli` — ``python -m ddpm_course doctor | train | sample | export``.

Importing this package imports nothing heavy; each module imports torch only where it must.
The dependency is one way: ``ddpm_course`` imports ``ddpm_lib``, never the reverse.
"""
