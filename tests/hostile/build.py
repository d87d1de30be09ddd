"""Write a submissions folder of hostile notebooks and honest neighbours (see the package docstring).

Every notebook is the student edition's Langevin exercise (its stub cell and its checker
cell, after one import cell) with one change. ``build`` returns, per submission id, what the
grader must give: ``("trick", None, words)`` for a trick (any result but ``pass``) or
``("honest", result, words)`` for a neighbour whose grade must not move.
"""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import nbformat

from ddpm_course.student import student_notebook

CORRECT = "def langevin_step(x, score, h, z):\n    return x + h * score(x) + math.sqrt(2 * h) * z\n"
SQRT_H = "def langevin_step(x, score, h, z):\n    return x + h * score(x) + math.sqrt(h) * z\n"
IMPORTS = "import math\n\nimport torch\n\nfrom ddpm_course.exercises import check\n"


def exercise_cells(book: Path) -> tuple[dict, dict, dict]:
    """The student edition's notebook and its Langevin stub and checker cells."""
    nb = student_notebook(nbformat.read(str(book / "langevin.ipynb"), as_version=4))
    stub = next(c for c in nb.cells if c.cell_type == "code" and "def langevin_step" in c.source)
    checker = next(c for c in nb.cells if c.cell_type == "code" and 'check("langevin-step"' in c.source)
    return nb, stub, checker


def notebook(book: Path, answer: str | None = None, trick: str | None = None, replace_stub: bool = False):
    """The exercise notebook: the stub (or ``answer``), then ``trick`` (if any), then the checker."""
    nb, stub, checker = exercise_cells(book)
    out = copy.deepcopy(nb)
    cells = [nbformat.v4.new_code_cell(IMPORTS)]
    if not replace_stub:
        s = copy.deepcopy(stub)
        if answer is not None:
            s.source = answer
        cells.append(s)
    if trick:
        cells.append(nbformat.v4.new_code_cell(trick))
    cells.append(copy.deepcopy(checker))
    out.cells = cells
    return out


def _write(folder: Path, rel: str | bytes, nb) -> None:
    path = os.path.join(os.fsencode(folder), os.fsencode(rel))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)


def build(folder: Path, book: Path, outside: Path, instructor_file: Path, grader_pid: int) -> dict:
    """Fill ``folder``; ``outside`` is a folder beside it (a symlink target); the expectations by id."""
    folder, outside = Path(folder), Path(outside)
    folder.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    public = json.loads((Path(__file__).resolve().parents[2] / "ddpm_course/exercises/data/langevin-step.json")
                        .read_text(encoding="utf-8"))
    subs = folder.resolve()
    expect: dict = {}

    def honest(rel, answer, result, words=""):
        _write(folder, rel, notebook(book, answer))
        expect[os.fsdecode(rel) if isinstance(rel, bytes) else rel] = ("honest", result, words)

    def trick(rel, code, answer=None, replace_stub=False, words=""):
        _write(folder, rel, notebook(book, answer, code, replace_stub))
        expect[os.fsdecode(rel) if isinstance(rel, bytes) else rel] = ("trick", None, words)

    # honest neighbours, graded before and after the tricks (ids sort around them)
    honest("aaa-correct.ipynb", CORRECT, "pass")
    honest("mmm-sqrt-h.ipynb", SQRT_H, "fail", "√h instead of √(2h)")
    honest("zzz-correct.ipynb", CORRECT, "pass")
    honest("zzz-stub.ipynb", None, "fail", "NotImplementedError")
    # full marks without solving
    trick("rebind-checkers.ipynb",
          "import ddpm_course.exercises as E\n"
          "E.CHECKERS['langevin-step'] = lambda fn: E.Feedback('langevin-step', True, 'correct')\n"
          "E.check = lambda ex, fn: E.Feedback(ex, True, 'correct')\ncheck = E.check\n")
    trick("patch-allclose.ipynb",
          "import numpy as np\ntorch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n"
          "np.allclose = lambda *a, **k: True\n", answer="def langevin_step(x, score, h, z):\n    return x\n")
    trick("import-reference.ipynb",
          "try:\n    from ddpm_course.solutions.langevin import reference_langevin_step as langevin_step\n"
          "except ImportError:\n    from ddpm_course.exercises.langevin import reference_langevin_step as langevin_step\n",
          replace_stub=True)
    forged = {"cases": [{"out": row["out"]} for row in public["reference"]]}
    trick("forge-results.ipynb",
          "import json, os, threading, time\n"
          "line = json.dumps({'exercise': 'langevin-step', 'passed': True, 'hint': 'ok'})\n"
          "for p in [os.environ.get('DDPM_GRADING_LOG', ''), '/tmp/student/checks.jsonl']:\n"
          "    if p:\n        open(p, 'a').write(line + '\\n')\n"
          f"FORGED = {json.dumps(json.dumps(forged))}\n"
          "def forge():\n"
          "    while True:\n"
          "        for k in range(3):\n"
          "            try:\n                open(f'/tmp/student/.probe-{k}.json', 'w').write(FORGED)\n"
          "            except OSError:\n                pass\n"
          "        time.sleep(0.01)\n"
          "threading.Thread(target=forge, daemon=True).start()\n")
    # harm to others
    trick("proc-cmdline.ipynb",
          "import os, glob\nfound = []\n"
          "for pid in ['self', str(os.getppid()), '1']:\n"
          "    try:\n        found += open(f'/proc/{pid}/cmdline', 'rb').read().split(b'\\0')\n"
          "    except OSError:\n        pass\n"
          f"targets = [os.fsencode(p) for p in {[str(subs), str(instructor_file.parent)]!r}]\n"
          "dirs = [a.decode('utf-8', 'replace') for a in found + targets if a.startswith(b'/') and a.count(b'/') > 1]\n"
          "for d in dirs:\n"
          "    for nb in glob.glob(os.path.join(d, '*.ipynb')) + glob.glob(os.path.join(d, '*', '*.ipynb')):\n"
          "        try:\n            open(nb, 'w').write('{}')\n        except OSError:\n            pass\n"
          f"for victim in [{str(instructor_file)!r}]:\n"
          "    try:\n        os.remove(victim)\n    except OSError:\n        pass\n")
    trick("detached-writer.ipynb",
          "import subprocess\n"
          "script = ('sleep 0.5; while true; do for d in /tmp/ddpm-* /tmp/*/ddpm-* " + str(folder.parent) + "/*/ddpm-*; '\n"
          "          'do echo \\'{\"exercise\": \"langevin-step\", \"passed\": false}\\' >> \"$d/checks.jsonl\"; '\n"
          "          'echo \"{}\" > \"$d/submission.ipynb\"; done; sleep 0.1; done')\n"
          "subprocess.Popen(['setsid', 'sh', '-c', script], start_new_session=True,\n"
          "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n")
    trick("sigkill-grader.ipynb",
          "import os, signal\n"
          f"for pid in [{grader_pid}, os.getppid(), 1]:\n"
          "    try:\n        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\n")
    trick("fork-bomb.ipynb",
          "import os, time\n"
          "while True:\n"
          "    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
          "    if pid == 0:\n"
          "        while True:\n"
          "            try:\n                os.fork()\n            except OSError:\n                time.sleep(1)\n")
    trick("big-allocation.ipynb", "block = bytearray(2 * 1024**3)\nblock[::4096] = b'x' * len(block[::4096])\n")
    # names and links
    trick(b"caf\xe9-undecodable.ipynb", None)
    trick("=1+2.ipynb", None)
    trick("alice.ipynb", SQRT_H)
    trick("alice/langevin.ipynb", None)
    trick("alice/old/langevin.ipynb", "def langevin_step(x, score, h, z):\n    return x + h * score(x)\n")
    _write(outside, "secret.ipynb", notebook(book, CORRECT))
    os.symlink(outside / "secret.ipynb", folder / "linked-outside.ipynb")
    expect["linked-outside.ipynb"] = ("trick", None, "symbolic link")
    (folder / "broken.ipynb").write_text("{ not json", encoding="utf-8")
    expect["broken.ipynb"] = ("trick", None, "not a valid notebook")
    return expect
