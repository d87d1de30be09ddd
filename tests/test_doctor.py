"""``python -m ddpm_course doctor``: pins, the kernel's import of ddpm_lib, the device, exit codes."""
from __future__ import annotations

import json
import stat
import sys
from importlib import metadata
from pathlib import Path

from ddpm_course import doctor

REPO = Path(__file__).resolve().parents[1]


def test_read_requirements():
    text = ("# comment\ntorch==2.13.0\nnumpy == 2.4.6  # why\n-e .\n--extra-index-url https://x\n"
            "sphinx-proof==0.4.0\npackage[extra]==1.0\nloose>=1\nwin-only==1; sys_platform == 'nt-never'\n"
            "not a requirement!\n")
    reqs, bad = doctor.read_requirements(text)
    assert {r.name: str(r.specifier) for r in reqs} == {"torch": "==2.13.0", "numpy": "==2.4.6",
                                                        "sphinx-proof": "==0.4.0", "package": "==1.0", "loose": ">=1"}
    assert bad == ["not a requirement!"]


def test_pins_match_and_mismatch(tmp_path):
    pytest_version = metadata.version("pytest")
    good = tmp_path / "good.txt"
    good.write_text(f"pytest=={pytest_version}\n")
    assert [c.status for c in doctor.check_pins(good)] == ["ok"]
    bad = tmp_path / "bad.txt"
    bad.write_text(f"pytest==0.0.1\nno-such-package-for-ddpm-doctor==1.0\npytest-xdist=={metadata.version('pytest-xdist')}\n")
    checks = doctor.check_pins(bad)
    assert [c.status for c in checks] == ["FAIL", "FAIL"]
    assert "pytest " in checks[0].detail and "pinned ==0.0.1" in checks[0].detail
    assert "missing" in checks[1].detail
    assert doctor.check_pins(None)[0].status == "info"  # no requirements.txt: skipped, says so


def test_local_build_tags_are_accepted(tmp_path, monkeypatch):
    """torch's ``2.13.0+cpu`` satisfies ``torch==2.13.0`` (PEP 440), ``2.12.0+cpu`` does not."""
    req = tmp_path / "r.txt"
    req.write_text("torch==2.13.0\n")
    for installed, status in (("2.13.0+cpu", "ok"), ("2.12.0+cpu", "FAIL")):
        monkeypatch.setattr(metadata, "version", lambda name, v=installed: v)
        assert [c.status for c in doctor.check_pins(req)] == [status]


def test_requirements_are_found_from_the_repository():
    found = doctor.find_requirements(REPO / "book")
    assert found is None or found == REPO / "requirements.txt"
    if (REPO / "requirements.txt").is_file():
        assert found == REPO / "requirements.txt"


def _kernel(tmp_path, monkeypatch, name: str, script: str) -> None:
    """A kernelspec ``name`` whose Python is the shell ``script``."""
    exe = tmp_path / f"{name}-python"
    exe.write_text("#!/bin/sh\n" + script + "\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    spec = tmp_path / "jupyter" / "kernels" / name
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(exe), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": name, "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))


def test_a_kernel_that_imports_ddpm_lib(tmp_path, monkeypatch):
    _kernel(tmp_path, monkeypatch, "ddpm-good", f'PYTHONPATH="{REPO}" exec "{sys.executable}" "$@"')
    checks = {c.what.split(" (")[0]: c for c in doctor.check_kernel("ddpm-good")}
    assert checks["ddpm_lib in the 'ddpm-good' kernel"].status == "ok", checks


def test_a_kernel_that_cannot_import_ddpm_lib(tmp_path, monkeypatch):
    _kernel(tmp_path, monkeypatch, "ddpm-bad", f'exec "{sys.executable}" -c "import ddpm_lib_is_not_here"')
    checks = doctor.check_kernel("ddpm-bad")
    kernel = [c for c in checks if "'ddpm-bad' kernel" in c.what][0]
    assert kernel.status == "FAIL" and "ModuleNotFoundError" in kernel.detail and "fix" in kernel.detail


def test_a_missing_kernelspec(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    checks = doctor.check_kernel("no-such-kernel-ddpm")
    assert checks[-1].status == "FAIL" and "ipykernel install" in checks[-1].detail


def test_the_device():
    [c] = doctor.check_device()
    assert c.status == "ok" and c.detail.split(" ")[0] in ("CUDA", "Apple", "CPU")


def test_exit_codes(monkeypatch, capsys):
    monkeypatch.setattr(doctor, "run_checks", lambda req, kernel: [doctor.Check("ok", "a"), doctor.Check("info", "b")])
    assert doctor.main([]) == 0
    monkeypatch.setattr(doctor, "run_checks", lambda req, kernel: [doctor.Check("ok", "a"), doctor.Check("FAIL", "c", "d")])
    assert doctor.main([]) == 1
    out = capsys.readouterr().out
    assert "✘ c: d" in out and "1 problem(s) found" in out
    assert doctor.main(["--requirements", "/no/such/requirements.txt"]) == 2
    assert capsys.readouterr().err.startswith("error: --requirements /no/such/requirements.txt")


def test_the_cli_has_doctor():
    from ddpm_course import cli

    parser = cli.build_parser()
    args = parser.parse_args(["doctor", "--kernel", "x"])
    assert args.kernel == "x" and args._run is doctor.run
