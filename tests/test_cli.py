"""Tests of the command line (python -m ddpm_course)."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ddpm_course import cli

ROOT = Path(__file__).resolve().parents[1]


def test_help_lists_every_option_with_defaults(capsys):
    for cmd, options in [("train", ["--data", "--steps", "--batch-size", "--lr", "--device", "--seed", "--out",
                                    "--resume"]),
                         ("sample", ["--checkpoint", "--n", "--sampler", "--steps", "--out"])]:
        with pytest.raises(SystemExit) as e:
            cli.main([cmd, "--help"])
        assert e.value.code == 0
        text = capsys.readouterr().out
        for opt in options:
            assert opt in text, opt
        assert "(default:" in text
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "train" in out and "sample" in out


def test_module_entry_point():
    r = subprocess.run([sys.executable, "-m", "ddpm_course", "--help"], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and "train" in r.stdout


def test_register_subcommand(capsys):
    cli.register_subcommand("hello", "say hello", lambda p: p.add_argument("--name", default="x", help="who"),
                            lambda a: print(f"hello {a.name}") or 0)
    try:
        assert cli.main(["hello", "--name", "ddpm"]) == 0
        assert "hello ddpm" in capsys.readouterr().out
    finally:
        cli.SUBCOMMANDS.pop("hello")


def test_tiny_train_and_sample(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--data", "moons", "--n-data", "300", "--steps", "20", "--batch-size", "32",
            "--n-steps", "20", "--width", "16", "--depth", "1", "--out", str(out), "--n-samples", "50",
            "--no-progress", "--device", "cpu", "--checkpoint-every", "10"]
    assert cli.main(args) == 0
    for name in ("checkpoint.pt", "loss.png", "samples.png"):
        assert (out / name).stat().st_size > 0, name
    # resume to 30 steps from OUT/checkpoint.pt
    assert cli.main([("30" if a == "20" and args[k - 1] == "--steps" else a) for k, a in enumerate(args)]
                    + ["--resume"]) == 0
    from ddpm_lib.checkpoints import load_checkpoint
    assert load_checkpoint(out / "checkpoint.pt").step == 30
    s_out = tmp_path / "s"
    assert cli.main(["sample", "--checkpoint", str(out / "checkpoint.pt"), "--n", "40", "--out", str(s_out)]) == 0
    x = np.load(s_out / "samples.npy")
    assert x.shape == (40, 2) and np.isfinite(x).all()
    assert (s_out / "samples.png").stat().st_size > 0
    assert cli.main(["sample", "--checkpoint", str(out / "checkpoint.pt"), "--n", "10", "--sampler", "ddim",
                     "--steps", "5", "--out", str(s_out)]) == 0


def test_digits_train_writes_image_grid(tmp_path):
    out = tmp_path / "digits"
    assert cli.main(["train", "--data", "digits", "--steps", "3", "--batch-size", "8", "--n-steps", "10",
                     "--out", str(out), "--no-progress", "--device", "cpu"]) == 0
    assert (out / "samples.png").stat().st_size > 0


def test_errors_are_clear(tmp_path, capsys):
    assert cli.main(["train", "--steps", "0", "--out", str(tmp_path), "--no-progress"]) == 2
    assert "steps" in capsys.readouterr().err
    assert cli.main(["train", "--batch-size", "0", "--out", str(tmp_path), "--no-progress"]) == 2
    assert cli.main(["train", "--lr", "-1", "--out", str(tmp_path), "--no-progress"]) == 2
    assert cli.main(["train", "--device", "gpu7", "--out", str(tmp_path), "--no-progress"]) == 2
    assert cli.main(["train", "--resume", "--out", str(tmp_path / "none"), "--no-progress"]) == 2
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    assert cli.main(["sample", "--checkpoint", str(bad), "--out", str(tmp_path)]) == 2
    assert "bad.pt" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "--data", "mnist"])


def test_ctrl_c_exits_130_with_checkpoint(tmp_path, monkeypatch, capsys):
    from ddpm_lib import training

    def interrupted(*a, **k):
        exc = KeyboardInterrupt("stop")
        exc.step, exc.checkpoint = 7, tmp_path / "checkpoint.pt"
        raise exc

    monkeypatch.setattr(training, "train", interrupted)
    assert cli.main(["train", "--steps", "10", "--out", str(tmp_path), "--no-progress", "--n-data", "10"]) == 130
    err = capsys.readouterr().err
    assert "interrupted at step 7" in err and "--resume" in err
