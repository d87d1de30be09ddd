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
    for cmd in ("train", "sample", "export", "doctor"):
        assert cmd in out


def test_module_entry_point():
    r = subprocess.run([sys.executable, "-m", "ddpm_course", "--help"], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and "train" in r.stdout


def test_tiny_train_and_sample(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--data", "moons", "--n-data", "300", "--steps", "20", "--batch-size", "32",
            "--n-steps", "20", "--width", "16", "--depth", "1", "--out", str(out), "--n-samples", "50",
            "--no-progress", "--device", "cpu", "--checkpoint-every", "10"]
    assert cli.main(args) == 0
    for name in ("checkpoint.pt", "loss.png", "samples.png"):
        assert (out / name).stat().st_size > 0, name
    # resume to 30 steps from OUT/checkpoint.pt
    longer = [("30" if a == "20" and args[k - 1] == "--steps" else a) for k, a in enumerate(args)]
    assert cli.main(longer + ["--resume"]) == 0
    from ddpm_lib.checkpoints import load_checkpoint
    assert load_checkpoint(out / "checkpoint.pt").step == 30
    s_out = tmp_path / "s"
    assert cli.main(["sample", "--checkpoint", str(out / "checkpoint.pt"), "--n", "40", "--out", str(s_out)]) == 0
    x = np.load(s_out / "samples.npy")
    assert x.shape == (40, 2) and np.isfinite(x).all()
    assert (s_out / "samples.png").stat().st_size > 0
    assert cli.main(["sample", "--checkpoint", str(out / "checkpoint.pt"), "--n", "10", "--sampler", "ddim",
                     "--steps", "5", "--out", str(s_out)]) == 0
    # without --sampler/--steps: the library's default sampler, from the seed's generator
    import torch

    from ddpm_lib.sampling import sample

    assert cli.main(["sample", "--checkpoint", str(out / "checkpoint.pt"), "--n", "40", "--seed", "5",
                     "--out", str(s_out)]) == 0
    ck = load_checkpoint(out / "checkpoint.pt")
    want = sample(ck.ema_model, ck.schedule(), 40, (2,), generator=torch.Generator().manual_seed(5))
    np.testing.assert_allclose(np.load(s_out / "samples.npy"), want.numpy(), rtol=1e-6, atol=1e-7)


def test_digits_train_writes_image_grid(tmp_path):
    out = tmp_path / "digits"
    assert cli.main(["train", "--data", "digits", "--steps", "3", "--batch-size", "8", "--n-steps", "10",
                     "--out", str(out), "--no-progress", "--device", "cpu"]) == 0
    assert (out / "samples.png").stat().st_size > 0


def _one_error(capsys, args, *words):
    """``args`` fails with exit status 2 and exactly one stderr line ``error: …`` naming ``words``."""
    try:
        code = cli.main(args)
    except SystemExit as exc:  # argparse
        code = exc.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (code, err)
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


TINY = ["--data", "ring", "--n-data", "200", "--batch-size", "32", "--n-steps", "20", "--width", "16",
        "--depth", "1", "--n-samples", "20", "--no-progress", "--device", "cpu", "--checkpoint-every", "5"]


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    """A 10-step ring checkpoint and its sampling export."""
    out = tmp_path_factory.mktemp("ring")
    assert cli.main(["train", *TINY, "--steps", "10", "--out", str(out)]) == 0
    assert cli.main(["export", "--checkpoint", str(out / "checkpoint.pt"), "--out", str(out / "export.pt")]) == 0
    return out


@pytest.mark.parametrize("args, words", [
    (["--n-data", "0"], ["--n-data"]), (["--width", "0"], ["--width"]), (["--depth", "0"], ["--depth"]),
    (["--n-samples", "0"], ["--n-samples"]), (["--threads", "-3"], ["--threads"]), (["--steps", "0"], ["--steps"]),
    (["--batch-size", "0"], ["--batch-size"]), (["--lr", "-1"], ["--lr"]), (["--lr", "nan"], ["--lr"]),
    (["--lr", "inf"], ["--lr"]), (["--ema-decay", "1"], ["--ema-decay"]), (["--grad-clip", "-1"], ["--grad-clip"]),
    (["--weight-decay", "-0.1"], ["--weight-decay"]), (["--seed", "-1"], ["--seed"]), (["--n-steps", "1"], ["--n-steps"]),
    (["--log-every", "0"], ["--log-every"]), (["--checkpoint-every", "0"], ["--checkpoint-every"]),
    (["--steps", "ten"], ["--steps", "integer"]), (["--data", "mnist"], ["mnist"]), (["--schedule", "x"], ["--schedule"]),
    (["--device", "gpu7"], ["--device", "gpu7"]), (["--resume", "/no/such/checkpoint.pt"], ["no checkpoint"]),
    (["--out", ""], ["--out", "empty"]), (["--lr-schedule", "step"], ["--lr-schedule"]),
    (["--lr-min-ratio", "1.5"], ["--lr-min-ratio"]), (["--lr-min-ratio", "-0.1"], ["--lr-min-ratio"]),
])
def test_bad_train_arguments(tmp_path, capsys, args, words):
    _one_error(capsys, ["train", *TINY, "--out", str(tmp_path / "o"), *args], *words)
    assert not (tmp_path / "o" / "checkpoint.pt").exists()  # refused before any training


def test_out_that_cannot_be_created(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    _one_error(capsys, ["train", *TINY, "--out", str(blocker / "run")], "cannot create", "--out")
    _one_error(capsys, ["train", *TINY, "--out", str(blocker)], "cannot create")


def test_bad_resumes(ring_run, tmp_path, capsys):
    ck = str(ring_run / "checkpoint.pt")
    out = ["--out", str(tmp_path / "o")]
    _one_error(capsys, ["train", *TINY, "--steps", "20", *out, "--resume", str(ring_run / "export.pt")],
               "sampling-only export")
    _one_error(capsys, ["train", *TINY, "--steps", "5", *out, "--resume", ck], "step 10", "--steps 5")
    _one_error(capsys, ["train", *TINY, "--steps", "20", *out, "--resume", ck, "--data", "digits"],
               "different configuration", "--data digits")
    # a ring checkpoint resumed with other data and width: refused, naming both
    line = _one_error(capsys, ["train", *TINY, "--steps", "20", *out, "--resume", ck, "--data", "moons",
                               "--width", "64"], "different configuration")
    assert "--data moons (checkpoint: ring)" in line and "width 64 (checkpoint: 16)" in line
    _one_error(capsys, ["train", *TINY, "--steps", "20", *out, "--resume", ck, "--lr", "0.01"], "--lr 0.01")
    _one_error(capsys, ["train", *TINY, "--steps", "20", *out, "--resume", ck, "--n-steps", "30"], "n_steps 30")
    _one_error(capsys, ["train", *TINY, "--steps", "20", *out, "--resume", ck, "--n-data", "300"], "--n-data 300")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    _one_error(capsys, ["train", *TINY, "--steps", "20", *out, "--resume", str(bad)], "bad.pt")


def test_bad_sample_and_export_arguments(ring_run, tmp_path, capsys):
    ck, export = str(ring_run / "checkpoint.pt"), str(ring_run / "export.pt")
    blocker = tmp_path / "file"
    blocker.write_text("")
    out = ["--out", str(tmp_path / "s")]
    _one_error(capsys, ["sample", "--checkpoint", ck, "--sampler", "ddim", "--steps", "0", *out], "--steps")
    _one_error(capsys, ["sample", "--checkpoint", ck, "--sampler", "ddim", "--steps", "21", *out], "--steps 21")
    _one_error(capsys, ["sample", "--checkpoint", ck, "--sampler", "ancestral", "--steps", "21", *out], "--steps 21")
    _one_error(capsys, ["sample", "--checkpoint", ck, "--n", "0", *out], "--n")
    _one_error(capsys, ["sample", "--checkpoint", ck, "--threads", "0", *out], "--threads")
    _one_error(capsys, ["sample", "--checkpoint", ck, "--out", str(blocker / "x")], "cannot create")
    _one_error(capsys, ["sample", "--checkpoint", str(tmp_path / "none.pt"), *out], "none.pt")
    _one_error(capsys, ["sample", "--checkpoint", export, "--no-ema", *out], "--no-ema")
    _one_error(capsys, ["sample", *out], "--checkpoint")
    # every export error
    _one_error(capsys, ["export", "--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path / "e.pt")], "none.pt")
    _one_error(capsys, ["export", "--checkpoint", str(blocker), "--out", str(tmp_path / "e.pt")], "file")
    _one_error(capsys, ["export", "--checkpoint", ck, "--out", str(tmp_path)], "path of the file")
    _one_error(capsys, ["export", "--checkpoint", ck, "--out", ck], "onto itself")
    _one_error(capsys, ["export", "--checkpoint", ck, "--out", str(blocker / "e.pt")], "e.pt")
    _one_error(capsys, ["export", "--checkpoint", ck], "--out")
    _one_error(capsys, ["doctor", "--requirements", str(tmp_path / "none.txt")], "none.txt")


def test_no_traceback_from_the_module(tmp_path):
    """The real entry point: one ``error:`` line and exit status 2, for an argument and for a file."""
    for args in (["train", "--threads", "-3"], ["export", "--checkpoint", str(tmp_path / "x.pt"),
                                                "--out", str(tmp_path / "y.pt")]):
        r = subprocess.run([sys.executable, "-m", "ddpm_course", *args], cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 2 and r.stderr.startswith("error: ") and len(r.stderr.splitlines()) == 1, r.stderr


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


def test_the_cosine_learning_rate_reaches_the_training_run(tmp_path, capsys):
    """--lr-schedule/--lr-min-ratio reach TrainConfig: the checkpoint records them, and the optimizer's
    final learning rate is lr_min_ratio × lr (the cosine's end, TrainConfig.lr_factor)."""
    from ddpm_lib.checkpoints import load_checkpoint

    out = tmp_path / "cos"
    assert cli.main(["train", *TINY, "--steps", "10", "--lr", "0.004", "--lr-schedule", "cosine",
                     "--lr-min-ratio", "0.25", "--out", str(out)]) == 0
    ck = load_checkpoint(out / "checkpoint.pt")
    assert ck.train_config["lr_schedule"] == "cosine" and ck.train_config["lr_min_ratio"] == 0.25
    assert ck.optimizer_state["param_groups"][0]["lr"] == pytest.approx(0.004 * 0.25, rel=1e-9)
    # the cosine is planned for --steps: extending the run is refused, with a message that says how to
    # train a run that can be extended (and no traceback)
    capsys.readouterr()
    assert cli.main(["train", *TINY, "--steps", "15", "--lr", "0.004", "--lr-schedule", "cosine",
                     "--lr-min-ratio", "0.25", "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "--steps 15 (checkpoint: 10)" in err and "--lr-schedule constant" in err and "Traceback" not in err


def test_the_books_retrain_command_gives_the_shipped_digits_checkpoints_settings():
    """The DDPM chapter prints "the one command that retrains" book/checkpoints/digits.pt. Parsed by the
    CLI, it must give the training settings stored in that checkpoint (a changed CLI default, such as the
    learning-rate schedule, would otherwise retrain a different model), and the schedule's n."""
    import re
    import shlex

    from ddpm_lib.checkpoints import load_checkpoint

    text = (ROOT / "book" / "ddpm_discrete.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(python -m ddpm_course train .*?)\npython -m ddpm_course export", text, re.S)
    assert block, "the retrain command is no longer in book/ddpm_discrete.md"
    argv = shlex.split(block.group(1).replace("\\\n", " "))[3:]            # after `python -m ddpm_course`
    args = cli.build_parser().parse_args(argv)
    ck = load_checkpoint(ROOT / "book" / "checkpoints" / "digits.pt")
    cfg = cli.train_config(args)
    assert cfg.resume_mismatches(ck.train_config) == []
    assert cfg.steps == ck.train_config["steps"] == ck.step
    assert args.data == "digits" and args.n_steps == ck.schedule().n
    # the check can fail: the same command with a cosine learning rate is another training
    cosine = [("cosine" if a == "constant" else a) for a in argv]
    assert [m[0] for m in cli.train_config(cli.build_parser().parse_args(cosine)).resume_mismatches(
        ck.train_config)] == ["lr_schedule"]
