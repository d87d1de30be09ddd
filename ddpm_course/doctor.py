"""Check this machine for the book: pinned versions, the notebook kernel, the training device.

    python -m ddpm_course doctor        (or python -m ddpm_course.doctor)

* every requirement of the repository's ``requirements.txt`` (``name==version`` pins) is
  installed in a version it allows: each line is read by ``packaging.requirements.Requirement``
  and compared with ``importlib.metadata.version`` (PEP 440, so torch's ``+cpu`` matches
  ``==2.13.0``);
* ``import ddpm_lib`` works in this interpreter and in the Python of the Jupyter kernel the
  notebooks use (the ``python3`` kernelspec), run from an empty folder, and both import the
  same copy;
* which device training would use (CUDA, then Apple MPS, then the CPU);
* for information only: offline MathJax for the book, Chromium for the browser tests.

Exit status 0 when everything required is right, 1 otherwise, with a line saying how to fix
each problem; 2 (``error: …``) for a ``--requirements`` file that does not exist.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.requirements import Requirement

__all__ = ["Check", "find_requirements", "read_requirements", "check_pins", "check_kernel", "check_device",
           "run_checks", "add_arguments", "run", "main"]

OK, FAIL, INFO = "ok", "FAIL", "info"


@dataclass
class Check:
    status: str   # ok | FAIL | info
    what: str
    detail: str = ""

    def __str__(self) -> str:
        mark = {OK: "✔", FAIL: "✘", INFO: "·"}[self.status]
        return f"{mark} {self.what}" + (f": {self.detail}" if self.detail else "")


def find_requirements(start: str | Path | None = None) -> Path | None:
    """``requirements.txt`` of the repository: in ``start`` (default the working folder) or a
    parent of it, else next to the ``ddpm_lib`` package (an editable install)."""
    here = Path(start or os.getcwd()).resolve()
    for folder in [here, *here.parents, Path(__file__).resolve().parent.parent]:
        candidate = folder / "requirements.txt"
        if candidate.is_file() and (folder / "ddpm_lib").is_dir():
            return candidate
    return None


def read_requirements(text: str) -> tuple[list["Requirement"], list[str]]:
    """The requirements of a ``requirements.txt`` text (``packaging`` ``Requirement`` objects; comments,
    options such as ``-e .`` and requirements whose environment marker does not apply are skipped)
    and the lines that are not valid requirements."""
    from packaging.requirements import InvalidRequirement, Requirement

    reqs, bad = [], []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            bad.append(line)
            continue
        if req.marker is None or req.marker.evaluate():
            reqs.append(req)
    return reqs, bad


def check_pins(requirements: Path | None) -> list[Check]:
    """One ``FAIL`` per requirement of ``requirements`` that is missing or installed in a version it excludes."""
    from importlib import metadata

    if requirements is None:
        return [Check(INFO, "pinned versions", "no requirements.txt found (run from the repository): skipped")]
    reqs, bad = read_requirements(requirements.read_text(encoding="utf-8", errors="replace"))
    fix = f"; fix: pip install -r {requirements}"
    wrong = [Check(FAIL, "pinned versions", f"{requirements}: not a requirement line: {line!r}") for line in bad]
    for req in reqs:
        try:
            installed = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            wrong.append(Check(FAIL, "pinned versions", f"{req.name} is missing (pinned {req.specifier}){fix}"))
            continue
        if not req.specifier.contains(installed, prereleases=True):
            wrong.append(Check(FAIL, "pinned versions", f"{req.name} {installed} (pinned {req.specifier}){fix}"))
    return wrong or [Check(OK, "pinned versions", f"all {len(reqs)} pins of {requirements} match")]


_PROBE = "import ddpm_lib, sys; print(ddpm_lib.__file__); print(sys.executable)"


def _probe(python: list[str], label: str) -> tuple[Check, str | None]:
    with tempfile.TemporaryDirectory() as empty:  # not the repository: an installed ddpm_lib is needed
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        try:
            proc = subprocess.run(python + ["-c", _PROBE], cwd=empty, env=env, capture_output=True,
                                  text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Check(FAIL, label, f"could not run {python[0]}: {exc}"), None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return Check(FAIL, label, f"`import ddpm_lib` fails in {python[0]} ({last}); fix: "
                                  f"{python[0]} -m pip install -e <the repository>"), None
    where = proc.stdout.strip().splitlines()[0]
    return Check(OK, label, f"imports {Path(where).parent}"), where


def check_kernel(kernel_name: str = "python3") -> list[Check]:
    checks = []
    here, here_file = _probe([sys.executable], f"ddpm_lib in this Python ({sys.executable})")
    checks.append(here)
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

        try:
            spec = KernelSpecManager().get_kernel_spec(kernel_name)
        except NoSuchKernel:
            checks.append(Check(FAIL, f"Jupyter kernel {kernel_name!r}",
                                f"no such kernelspec; fix: {sys.executable} -m ipykernel install --user --name {kernel_name}"))
            return checks
    except ImportError:
        checks.append(Check(FAIL, "Jupyter kernel", "jupyter_client is not installed; fix: pip install -r requirements.txt"))
        return checks
    argv = list(spec.argv)
    major, minor = sys.version_info[:2]
    if argv[0] in ("python", f"python{major}", f"python{major}.{minor}"):
        python = sys.executable  # jupyter_client runs such a kernel with the Python that runs Jupyter
    else:
        python = argv[0] if os.path.isabs(argv[0]) else (shutil.which(argv[0]) or argv[0])
    kernel, kernel_file = _probe([python], f"ddpm_lib in the {kernel_name!r} kernel ({python})")
    checks.append(kernel)
    if here_file and kernel_file and Path(here_file).resolve() != Path(kernel_file).resolve():
        checks.append(Check(FAIL, "one ddpm_lib", f"this Python imports {here_file} but the kernel imports "
                                                  f"{kernel_file}; fix: {sys.executable} -m ipykernel install "
                                                  f"--user --name {kernel_name}"))
    return checks


def check_device() -> list[Check]:
    try:
        import torch
    except ImportError:
        return [Check(FAIL, "torch", "not installed; fix: pip install -r requirements.txt")]
    try:
        from ddpm_lib.devices import resolve_device

        device = resolve_device("auto")
    except Exception:  # noqa: BLE001 - fall back to the same rule without the training module
        if torch.cuda.is_available():
            device = torch.device("cuda")
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            device = torch.device("mps")
        else:
            device = torch.device("cpu")
    if device.type == "cuda":
        detail = f"CUDA ({torch.cuda.get_device_name(0)}), torch {torch.__version__}"
    elif device.type == "mps":
        detail = f"Apple MPS, torch {torch.__version__}"
    else:
        detail = (f"CPU (no CUDA or MPS), torch {torch.__version__}: every notebook is sized to run on "
                  f"a laptop CPU")
    return [Check(OK, "training device", detail)]


def check_extras(root: Path | None) -> list[Check]:
    out = []
    if root is not None:
        local = (root / "_static" / "mathjax" / "tex-chtml.js").is_file()
        out.append(Check(INFO, "offline math", "MathJax in _static/mathjax" if local else
                         "no _static/mathjax: the book loads MathJax from the CDN (python _ext/mathjax_local.py --install)"))
    chromium = Path("/usr/bin/chromium").is_file() and Path("/usr/bin/chromedriver").is_file()
    out.append(Check(INFO, "browser tests", "Debian chromium + chromedriver present" if chromium else
                     "no /usr/bin/chromium + chromedriver: scripts/test.sh skips its browser stage"))
    return out


def run_checks(requirements: Path | None = None, kernel_name: str = "python3", search: bool = True) -> list[Check]:
    req = requirements if requirements is not None or not search else find_requirements()
    checks = [Check(OK if sys.version_info >= (3, 10) else FAIL, "Python",
                    f"{sys.version.split()[0]} ({sys.executable})"
                    + ("" if sys.version_info >= (3, 10) else "; the book needs Python 3.10 or newer"))]
    checks += check_pins(req)
    checks += check_kernel(kernel_name)
    checks += check_device()
    checks += check_extras(req.parent if req is not None else None)
    return checks


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requirements", default=None, help="requirements.txt to compare with (default: the repository's)")
    parser.add_argument("--kernel", default="python3", help="Jupyter kernelspec the notebooks use")


def run(args: argparse.Namespace) -> int:
    """Run every check and print one line each; the exit status (0 all good, 1 problems, 2 bad input)."""
    req = Path(args.requirements) if args.requirements else None
    if req is not None and not req.is_file():
        print(f"error: --requirements {req}: no such file", file=sys.stderr)
        return 2
    checks = run_checks(req, args.kernel)
    for c in checks:
        print(c)
    failed = [c for c in checks if c.status == FAIL]
    print(f"\n{len(failed)} problem(s) found" if failed else "\nall good: the book's notebooks can run here")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ddpm_course.doctor", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
