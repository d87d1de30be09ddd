"""Rehearse a Colab launch offline: run chapter notebooks where ``ddpm_lib`` is not installed.

What the launch button gives a reader is the chapter's ``.ipynb`` alone, in an empty
folder (``/content``), on a Python that has the scientific stack but not this project.
This script builds that situation on this machine and runs the notebooks there:

* a fresh virtual environment that sees the project's venv packages (torch, numpy, …,
  standing in for Colab's preinstalled ones) through a ``.pth`` line, but not ``ddpm_lib``
  or ``ddpm_course`` (their editable install is not processed through a ``.pth`` path);
* a clone of the repository's committed ``HEAD``, reached as ``file://`` instead of the
  GitHub URL of ``_config.yml`` (the first cell's only address, so one replacement);
  ``<clone>/main`` links to the clone, so the checkpoint URL the cell derives
  (``<repository>/main/book/checkpoints/digits.pt``) resolves there;
* an empty working folder, where each notebook runs in a fresh kernel of that venv.

The first cell must then install the package with pip from the repository (offline:
``PIP_NO_INDEX=1``, no build isolation) and fetch the checkpoint, and every later cell
must run. Exits 1 if a cell fails.

    python scripts/colab_rehearsal.py                       # sde_toolkit, whole; ddpm_discrete, first cell
    python scripts/colab_rehearsal.py ddpm_discrete --whole # one chapter, every cell (about a minute)
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def repository_url() -> str:
    """The repository URL set once in ``_config.yml`` (the chapters' first cells use it)."""
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"]


def make_environment(work: Path) -> dict[str, str]:
    """A venv without the project, a clone of HEAD and a kernel spec, under ``work``.

    Returns the environment variables the notebook's kernel runs with."""
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "_preinstalled.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    clone = work / "repository"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    (clone / "main").symlink_to(".")
    spec = work / "kernels" / "colab"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        '{"argv": ["%s", "-m", "ipykernel_launcher", "-f", "{connection_file}"], '
        '"display_name": "colab rehearsal", "language": "python"}' % (venv / "bin" / "python"), encoding="utf-8")
    env = dict(os.environ, JUPYTER_PATH=str(work), PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0",
               PIP_DISABLE_PIP_VERSION_CHECK="1", OMP_NUM_THREADS="1")
    env.pop("PYTHONPATH", None)
    return env


def rehearse(chapter: str, work: Path, *, whole: bool) -> tuple[int, float]:
    """Run ``book/<chapter>.ipynb`` (or its first code cell) in an empty folder under ``work``.

    Returns (cells run, seconds). Raises ``nbclient.exceptions.CellExecutionError`` on a failed cell."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "book" / f"{chapter}.ipynb", as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    url = repository_url()
    if first.source.count(url) != 1:
        raise SystemExit(f"error: the first code cell of {chapter} does not name {url} once")
    first.source = first.source.replace(url, (work / "repository").as_uri())
    if not whole:
        nb.cells = [first]
    content = work / "content" / chapter
    content.mkdir(parents=True)
    t0 = time.perf_counter()
    NotebookClient(nb, kernel_name="colab", timeout=600, resources={"metadata": {"path": str(content)}}).execute()
    return sum(c.cell_type == "code" for c in nb.cells), time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("chapters", nargs="*", help="chapter names (default: sde_toolkit whole, ddpm_discrete first cell)")
    p.add_argument("--whole", action="store_true", help="run every cell of the named chapters")
    args = p.parse_args(argv)
    plan = [(c, args.whole) for c in args.chapters] or [("sde_toolkit", True), ("ddpm_discrete", False)]
    for chapter, _ in plan:
        if not (ROOT / "book" / f"{chapter}.ipynb").is_file():
            p.error(f"no notebook book/{chapter}.ipynb")
    with tempfile.TemporaryDirectory(prefix="colab-") as tmp:
        work = Path(tmp)
        env = make_environment(work)
        os.environ.clear()
        os.environ.update(env)  # the kernels inherit it
        for chapter, whole in plan:
            cells, seconds = rehearse(chapter, work, whole=whole)
            fetched = sorted(str(p.relative_to(work / "content" / chapter))
                             for p in (work / "content" / chapter).rglob("*") if p.is_file())
            print(f"{chapter}: {cells} code cell(s) ran in {seconds:.0f} s in an empty folder; "
                  f"files fetched: {', '.join(fetched) or 'none'}")
        installed = Path(subprocess.run([str(work / "venv" / "bin" / "python"), "-c",
                                         "import ddpm_lib; print(ddpm_lib.__file__)"],
                                        capture_output=True, text=True, check=True, cwd=work).stdout.strip())
        if work / "venv" not in installed.parents:
            print(f"error: the kernels imported ddpm_lib from {installed}, not from the rehearsal's venv")
            return 1
        print(f"ddpm_lib was installed by the first cell from the repository into {installed.parent}")
        for chapter, _ in plan:
            got = work / "content" / chapter / "checkpoints" / "digits.pt"
            if got.is_file() and got.read_bytes() != (ROOT / "book" / "checkpoints" / "digits.pt").read_bytes():
                print(f"error: {chapter} fetched a digits.pt that differs from the repository's")
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
