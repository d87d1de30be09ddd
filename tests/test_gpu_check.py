"""The CPU parts of benchmarks/gpu_check.py: the one-line skip without CUDA, bad options, and a tiny
float32/bf16 run on the CPU (the code path the GPU run takes, with the CPU as the "device")."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env,
                          timeout=600)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_skips_in_one_line_without_cuda():
    r = _run()
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().count("\n") == 0 and r.stdout.startswith("gpu_check: skipped: no CUDA")


def test_bad_options_exit_2():
    r = _run("--tol", "2")
    assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr


def test_quick_cpu_run_matches_the_cpu_reference():
    r = _run("--device", "cpu", "--quick", "--modes", "float32", "bf16")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "all checks passed" in r.stdout and r.stdout.count(" ok)") == 4   # 2 models × 2 modes
