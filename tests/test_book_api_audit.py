"""The book-reach audit's bookkeeping (tests/mutation/book_api_audit.py), without running the book."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "mutation"))
import book_api_audit as audit  # noqa: E402


def test_a_decorated_function_is_found_in_its_own_file():
    path, first, last = audit.public_api()["ddpm_lib.sampling", "sample"]   # @torch.no_grad()
    assert Path(path) == ROOT / "ddpm_lib" / "sampling.py" and first < last


def test_a_class_counts_its_methods_and_a_data_class_nothing(tmp_path):
    src = tmp_path / "m.py"
    src.write_text('from dataclasses import dataclass\n\n\n@dataclass\nclass Data:\n    """doc"""\n    a: int = 1\n\n\n'
                   'class Thing:\n    x = 3\n\n    def f(self):\n        """doc"""\n        return self.x\n', encoding="utf-8")
    assert audit.body_lines(str(src), 4, 7) == set()          # Data: class-level statements run at import
    assert audit.body_lines(str(src), 10, 15) == {15}          # Thing: only the method's body


def test_every_excuse_names_a_public_function_or_module():
    api = audit.public_api()
    modules = {m for m, _ in api}
    for mod, name in audit.EXCUSED:
        assert (mod, name) in api or (name == "*" and mod in modules), (mod, name)
