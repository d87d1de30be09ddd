"""Command line: ``python -m ddpm_course train | sample | export | doctor …``.

Bad input (an argument out of range, a file that is missing or not a checkpoint, a folder that
cannot be created, a resume that does not match its checkpoint) gives one line ``error: …`` on
stderr and exit status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from . import doctor
from ._args import SEED, THREADS, Parser, UsageError, float_arg, int_arg, out_folder
from ._plots import plot_loss, plot_samples

if TYPE_CHECKING:
    from ddpm_lib.training_config import TrainConfig

__all__ = ["main", "build_parser"]


# -- train ---------------------------------------------------------------------------
def _add_train_args(p: argparse.ArgumentParser) -> None:
    from ddpm_lib.data import DATASETS
    from ddpm_lib.training_config import TrainConfig

    p.add_argument("--data", default="mixture", choices=DATASETS, help="training data set")
    p.add_argument("--n-data", type=int_arg(1, 10 ** 8), default=20000,
                   help="number of training points (2-D sets; digits use all 1,797)")
    p.add_argument("--steps", type=int_arg(1), default=5000, help="total optimizer steps (including resumed ones)")
    p.add_argument("--batch-size", type=int_arg(1, 10 ** 7), default=256, help="minibatch size")
    p.add_argument("--lr", type=float_arg(0, high=10), default=2e-3, help="AdamW learning rate")
    p.add_argument("--lr-schedule", default=TrainConfig.lr_schedule, choices=("constant", "cosine"),
                   help="learning rate over the run: constant, or a cosine decay to --lr-min-ratio × lr at --steps "
                        "(2-D data: cosine, --lr-min-ratio 0 and --batch-size 1024 reach the noise floor; "
                        "benchmarks/train_2d.py)")
    p.add_argument("--lr-min-ratio", type=float_arg(0, low_open=False, high=1, high_open=False),
                   default=TrainConfig.lr_min_ratio,
                   help="final learning rate of the cosine schedule, as a fraction of --lr")
    p.add_argument("--weight-decay", type=float_arg(0, low_open=False), default=0.0, help="AdamW weight decay")
    p.add_argument("--ema-decay", type=float_arg(0, low_open=False, high=1), default=0.995,
                   help="decay of the EMA weights used for sampling, in [0, 1)")
    p.add_argument("--grad-clip", type=float_arg(0, low_open=False), default=1.0, help="gradient norm clip (0 turns it off)")
    p.add_argument("--device", default="auto", help="'auto' (CUDA, then MPS, then CPU), 'cpu', 'cuda', 'cuda:k' or 'mps'")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the model initialisation and of every minibatch draw")
    p.add_argument("--out", default="runs/ddpm", help="output folder for checkpoint.pt, loss.png and samples.png")
    p.add_argument("--resume", nargs="?", const="", default=None, metavar="CHECKPOINT",
                   help="resume from CHECKPOINT (no value: OUT/checkpoint.pt) with the options of its first run")
    p.add_argument("--n-steps", type=int_arg(2, 100_000), default=1000, help="number of diffusion steps n of the schedule")
    p.add_argument("--schedule", default="linear", choices=("linear", "cosine"), help="noise schedule")
    p.add_argument("--width", type=int_arg(1, 65536), default=128, help="MLP width (2-D data)")
    p.add_argument("--depth", type=int_arg(1, 256), default=3, help="MLP residual blocks (2-D data)")
    p.add_argument("--checkpoint-every", type=int_arg(1), default=1000, help="save a checkpoint every this many steps")
    p.add_argument("--log-every", type=int_arg(1), default=100, help="update the progress bar every this many steps")
    p.add_argument("--n-samples", type=int_arg(1, 10 ** 7), default=2000,
                   help="points drawn for samples.png (64 images for digits)")
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--threads", type=THREADS, default=1, help="CPU threads for torch (small models run fastest on 1)")


def _schedule(name: str, n: int):
    from ddpm_lib.schedules import cosine_schedule, scaled_linear_schedule

    # the linear schedule's β range is rescaled so that every n reaches the same ᾱ_n
    return cosine_schedule(n) if name == "cosine" else scaled_linear_schedule(n)


def _resume_check(path: Path, args: argparse.Namespace, model: Any, cfg: Any, schedule: Any) -> None:
    """Refuse (naming every differing option) to resume ``path`` with another configuration."""
    import torch

    from ddpm_lib.checkpoints import load_checkpoint

    ck = load_checkpoint(path)
    extra = ck.extra or {}
    if extra.get("sampling_only"):
        raise UsageError(f"cannot resume from {path}: it is a sampling-only export; resume from the checkpoint "
                         f"it was exported from ({extra.get('exported_from', '?')})")
    if ck.step > args.steps:
        raise UsageError(f"cannot resume from {path}: it is at step {ck.step}, beyond --steps {args.steps} "
                         f"(--steps counts every step, the resumed ones included)")
    same = {"ring": "mixture"}
    diffs = []
    if "data" in extra and same.get(extra["data"], extra["data"]) != same.get(args.data, args.data):
        diffs.append(f"--data {args.data} (checkpoint: {extra['data']})")
    for key in ("n_data", "schedule"):
        if extra.get(key) is not None and extra[key] != getattr(args, key):
            diffs.append(f"--{key.replace('_', '-')} {getattr(args, key)} (checkpoint: {extra[key]})")
    now, then = dict(model.config()), ck.model_config
    keys = ["class"] if now.get("class") != then.get("class") else sorted(set(now) | set(then))
    diffs += [f"model {k} {now.get(k)} (checkpoint: {then.get(k)})" for k in keys if now.get(k) != then.get(k)]
    for name, saved, new in cfg.resume_mismatches(ck.train_config):
        diffs.append(f"--{name.replace('_', '-')} {new} (checkpoint: {saved})")
        if name == "steps":   # only a cosine learning rate ties a run to its --steps
            diffs[-1] += (" — a cosine learning rate is planned for --steps, so a cosine run cannot be extended; "
                          "train runs to extend with --lr-schedule constant")
    if not diffs and ck.schedule_betas is not None and not torch.equal(
            ck.schedule_betas.to(schedule.betas.dtype), schedule.betas[1:]):
        diffs.append("the noise schedule (--schedule / --n-steps)")
    if diffs:
        raise UsageError(f"cannot resume from {path} with a different configuration: {'; '.join(diffs)}; "
                         f"repeat the options of the first run, or train into a new --out")


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The :class:`~ddpm_lib.training_config.TrainConfig` that ``train`` runs with for parsed ``args``."""
    from ddpm_lib.training_config import TrainConfig

    return TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, lr_schedule=args.lr_schedule,
                       lr_min_ratio=args.lr_min_ratio, weight_decay=args.weight_decay,
                       grad_clip=args.grad_clip if args.grad_clip > 0 else None, ema_decay=args.ema_decay,
                       seed=args.seed, device=args.device, compile=args.compile, progress=not args.no_progress,
                       log_every=args.log_every, checkpoint_every=args.checkpoint_every).validate()


def _run_train(args: argparse.Namespace) -> int:
    import torch

    from ddpm_lib.data import make_dataset
    from ddpm_lib.devices import resolve_device
    from ddpm_lib.models import EpsMLP, TinyUNet
    from ddpm_lib.sampling import DEFAULT_STEPS, sample
    from ddpm_lib.training import train

    torch.set_num_threads(args.threads)
    try:
        resolve_device(args.device)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise UsageError(f"--device {args.device}: {exc}") from None
    cfg = train_config(args)
    digits = args.data == "digits"
    resume = None
    if args.resume is not None:
        resume = Path(args.resume) if args.resume else Path(args.out) / "checkpoint.pt"
        if not resume.is_file():
            raise UsageError(f"cannot resume: no checkpoint at {resume}")
    out = out_folder(args.out)
    ckpt_path = out / "checkpoint.pt"
    schedule = _schedule(args.schedule, args.n_steps)
    data = make_dataset(args.data, None if digits else args.n_data, generator=torch.Generator().manual_seed(args.seed))
    torch.manual_seed(args.seed)
    if digits:
        model = TinyUNet(channels=data.shape[1], image_size=data.shape[2], n_steps=schedule.n)
    else:
        model = EpsMLP(dim=data.shape[1], width=args.width, depth=args.depth, n_steps=schedule.n)
    if resume is not None:
        _resume_check(resume, args, model, cfg, schedule)
    extra = {"data": args.data, "shape": list(data.shape[1:]), "n_data": None if digits else args.n_data,
             "schedule": args.schedule}
    try:
        result = train(model, data, schedule, cfg, checkpoint=ckpt_path, resume_from=resume, checkpoint_extra=extra)
    except KeyboardInterrupt as exc:
        saved = getattr(exc, "checkpoint", None)
        msg = f"interrupted at step {getattr(exc, 'step', '?')}"
        msg += f"; checkpoint saved to {saved} (continue with --resume)" if saved else ""
        print(msg, file=sys.stderr)
        return 130
    h = result.history
    last = h["loss"][-100:]
    print(f"trained {h['step'] - h['start_step']} steps in {h['wall_time']:.1f} s "
          f"({h['steps_per_second']:.0f} steps/s) on {result.device}; final loss (mean of last 100) "
          f"{sum(last) / max(1, len(last)):.4f}")
    plot_loss(h["loss"], out / "loss.png")
    ema = result.ema_model.to("cpu")
    x = sample(ema, schedule, 64 if digits else args.n_samples, tuple(data.shape[1:]),
               generator=torch.Generator().manual_seed(args.seed + 1), steps=min(DEFAULT_STEPS, schedule.n))
    plot_samples(x.cpu().numpy(), out / "samples.png", None if digits else data.numpy())
    print(f"wrote {ckpt_path}, {out / 'loss.png'}, {out / 'samples.png'}")
    return 0


# -- sample --------------------------------------------------------------------------
def _add_sample_args(p: argparse.ArgumentParser) -> None:
    from ddpm_lib.sampling import DEFAULT_SAMPLER, DEFAULT_STEPS, SAMPLERS

    p.add_argument("--checkpoint", required=True, help="checkpoint.pt written by 'train' (or by 'export')")
    p.add_argument("--n", type=int_arg(1, 10 ** 7), default=2000, help="number of samples")
    p.add_argument("--sampler", default=DEFAULT_SAMPLER, choices=SAMPLERS,
                   help="sampler: the library's default (DPM-Solver++(2M) with a little noise), its deterministic "
                        "form, DDPM's ancestral sampler or DDIM")
    p.add_argument("--steps", type=int_arg(1), default=None,
                   help=f"sampler steps, at most the checkpoint's n (default: n for 'ancestral' and 'ddim', "
                        f"{DEFAULT_STEPS} network calls for the DPM-Solver samplers)")
    p.add_argument("--variance", default="beta", choices=("beta", "beta_tilde"), help="ancestral noise variance")
    p.add_argument("--no-ema", action="store_true", help="sample with the raw weights instead of the EMA weights")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the sampler's noise")
    p.add_argument("--out", default="samples", help="output folder for samples.npy and samples.png")
    p.add_argument("--threads", type=THREADS, default=1, help="CPU threads for torch")


def _run_sample(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from ddpm_lib.checkpoints import load_checkpoint
    from ddpm_lib.sampling import DEFAULT_STEPS, sample

    torch.set_num_threads(args.threads)
    ck = load_checkpoint(args.checkpoint)
    schedule = ck.schedule()
    if schedule is None:
        raise UsageError(f"{args.checkpoint} stores no noise schedule")
    extra = ck.extra or {}
    if args.no_ema and extra.get("sampling_only"):
        raise UsageError(f"{args.checkpoint} is a sampling-only export holding the EMA weights only; "
                         f"--no-ema needs the full checkpoint")
    if args.steps is not None and args.steps > schedule.n:
        raise UsageError(f"--steps {args.steps} is more than the checkpoint's {schedule.n} diffusion steps")
    cfg = ck.model_config
    shape = tuple(extra.get("shape") or ([cfg["dim"]] if "dim" in cfg else
                                         [cfg["channels"], cfg["image_size"], cfg["image_size"]]))
    out = out_folder(args.out)
    model = ck.model if args.no_ema else ck.ema_model
    steps = min(DEFAULT_STEPS, schedule.n) if args.steps is None and args.sampler.startswith("dpm") else args.steps
    x = sample(model, schedule, args.n, shape, generator=torch.Generator().manual_seed(args.seed),
               sampler=args.sampler, variance=args.variance, steps=steps)
    arr = x.cpu().numpy()
    np.save(out / "samples.npy", arr)
    plot_samples(arr, out / "samples.png")
    print(f"wrote {len(arr)} samples of shape {shape} to {out / 'samples.npy'} and {out / 'samples.png'}")
    return 0


# -- export --------------------------------------------------------------------------
def _add_export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="checkpoint.pt written by 'train'")
    p.add_argument("--out", required=True, help="path of the sampling-only checkpoint to write")


def _run_export(args: argparse.Namespace) -> int:
    from ddpm_lib.checkpoints import export_for_sampling

    if not args.out.strip() or Path(args.out).is_dir():
        raise UsageError(f"--out must be the path of the file to write, got {args.out!r}")
    out = export_for_sampling(args.checkpoint, args.out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB): EMA weights, config, schedule and history")
    return 0


#: (name, help, add_arguments, run) of every subcommand
SUBCOMMANDS: tuple[tuple[str, str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]], ...] = (
    ("train", "train a denoiser on a data set and write checkpoint.pt, loss.png, samples.png",
     _add_train_args, _run_train),
    ("sample", "draw samples from a checkpoint into samples.npy and samples.png", _add_sample_args, _run_sample),
    ("export", "write a small sampling-only checkpoint (EMA weights, no optimizer state)",
     _add_export_args, _run_export),
    ("doctor", "check this machine for the book: pinned versions, the notebook kernel, the training device",
     doctor.add_arguments, doctor.run),
)


def build_parser() -> argparse.ArgumentParser:
    """The ``argparse`` parser with every subcommand."""
    parser = Parser(prog="python -m ddpm_course", description="Train and sample the book's small diffusion "
                     "models; check the machine.", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(s[0] for s in SUBCOMMANDS) + "}",
                                parser_class=Parser)
    sub.required = True
    for name, help_line, add_arguments, run in SUBCOMMANDS:
        p = sub.add_parser(name, help=help_line, description=help_line,
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        add_arguments(p)
        p.set_defaults(_run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), run the subcommand and return its exit code.

    Bad arguments exit with status 2 (``SystemExit``); bad input found later (``UsageError`` and the
    library's ``ValueError``/``TypeError``, a missing or unwritable file) prints ``error: …`` and returns 2.
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except (UsageError, ValueError, TypeError, OSError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
