"""The curated slips of tests/mutation/slips.py stay applicable (cheap; the slips themselves run in
the scheduled mutation workflow, `python tests/mutation/run_slips.py`)."""
import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "mutation"))
from slips import SLIPS  # noqa: E402


def test_at_least_thirty_slips_with_unique_ids():
    ids = [s.id for s in SLIPS]
    assert len(ids) >= 30 and len(set(ids)) == len(ids)


@pytest.mark.parametrize("slip", SLIPS, ids=lambda s: s.id)
def test_slip_applies_once_and_still_parses(slip):
    text = (ROOT / slip.file).read_text(encoding="utf-8")
    assert text.count(slip.old) == 1, f"{slip.id}: update `old`, it occurs {text.count(slip.old)} times in {slip.file}"
    assert slip.new != slip.old
    ast.parse(text.replace(slip.old, slip.new))


@pytest.mark.parametrize("slip", SLIPS, ids=lambda s: s.id)
def test_slip_names_existing_checks_and_tests(slip):
    assert slip.tests or slip.chapter, f"{slip.id} is caught nowhere"
    for t in slip.tests:
        assert (ROOT / t.split("::")[0]).exists(), f"{slip.id}: no test file {t}"
    if slip.chapter:
        source = (ROOT / "book" / f"{slip.chapter}.md").read_text(encoding="utf-8")
        assert slip.checks, f"{slip.id}: name the book checks that must fail"
        prefixes = re.findall(r"""f["']([\w-]+)\{""", source)   # names built as f"clock-bound-{name}"
        for name in slip.checks:
            literal = re.search(rf"""["']{re.escape(name)}["']""", source)
            assert literal or any(name.startswith(p) for p in prefixes), f"{slip.id}: no check '{name}' in {slip.chapter}.md"
