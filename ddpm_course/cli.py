"""Command line: ``python -m ddpm_course train …`` and ``python -m ddpm_course sample …``.

Subcommands live in the registry :data:`SUBCOMMANDS`; :func:`register_subcommand` adds one.
Optional modules listed in :data:`PLUGIN_MODULES` (``ddpm_course.doctor``) are imported when the
parser is built, if present; such a module either defines ``register_cli(register_subcommand)``
or the pair ``add_arguments(parser)`` / ``run(args) -> int`` (registered under its own name,
with the first line of its docstring as help).
"""
from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

__all__ = ["main", "build_parser", "register_subcommand", "SUBCOMMANDS", "PLUGIN_MODULES"]

PLUGIN_MODULES = ("ddpm_course.doctor",)


@dataclass
class Subcommand:
    """One CLI subcommand: its help line, how to add its arguments and what to run (returns an exit code)."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


SUBCOMMANDS: dict[str, Subcommand] = {}


def register_subcommand(name: str, help: str, add_arguments: Callable[[argparse.ArgumentParser], None],
                        run: Callable[[argparse.Namespace], int]) -> None:
    """Add (or replace) subcommand ``name`` of ``python -m ddpm_course``."""
    SUBCOMMANDS[name] = Subcommand(name, help, add_arguments, run)


# -- train ---------------------------------------------------------------------------
def _add_train_args(p: argparse.ArgumentParser) -> None:
    from ddpm_lib.data import DATASETS

    p.add_argument("--data", default="mixture", choices=DATASETS, help="training data set")
    p.add_argument("--n-data", type=int, default=20000, help="number of training points (2-D sets; digits use all 1,797)")
    p.add_argument("--steps", type=int, default=5000, help="total optimizer steps (including resumed ones)")
    p.add_argument("--batch-size", type=int, default=256, help="minibatch size")
    p.add_argument("--lr", type=float, default=2e-3, help="AdamW learning rate")
    p.add_argument("--weight-decay", type=float, default=0.0, help="AdamW weight decay")
    p.add_argument("--ema-decay", type=float, default=0.995, help="decay of the EMA weights used for sampling")
    p.add_argument("--grad-clip", type=float, default=1.0, help="gradient norm clip (0 turns it off)")
    p.add_argument("--device", default="auto", help="'auto' (CUDA, then MPS, then CPU), 'cpu', 'cuda', 'cuda:k' or 'mps'")
    p.add_argument("--seed", type=int, default=0, help="seed of the model initialisation and of every minibatch draw")
    p.add_argument("--out", default="runs/ddpm", help="output folder for checkpoint.pt, loss.png and samples.png")
    p.add_argument("--resume", nargs="?", const="", default=None, metavar="CHECKPOINT",
                   help="resume from CHECKPOINT (no value: OUT/checkpoint.pt)")
    p.add_argument("--n-steps", type=int, default=1000, help="number of diffusion steps n of the schedule")
    p.add_argument("--schedule", default="linear", choices=("linear", "cosine"), help="noise schedule")
    p.add_argument("--width", type=int, default=128, help="MLP width (2-D data)")
    p.add_argument("--depth", type=int, default=3, help="MLP residual blocks (2-D data)")
    p.add_argument("--checkpoint-every", type=int, default=1000, help="save a checkpoint every this many steps")
    p.add_argument("--log-every", type=int, default=100, help="update the progress bar every this many steps")
    p.add_argument("--n-samples", type=int, default=2000, help="points drawn for samples.png (64 images for digits)")
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch (small models run fastest on 1)")


def _schedule(name: str, n: int):
    from ddpm_lib.schedules import cosine_schedule, scaled_linear_schedule

    # the linear schedule's β range is rescaled so that every n reaches the same ᾱ_n
    return cosine_schedule(n) if name == "cosine" else scaled_linear_schedule(n)


def _plot_loss(losses: list[float], path: Path) -> None:
    from matplotlib.figure import Figure
    import numpy as np

    fig = Figure(figsize=(6, 3.5), dpi=100)
    ax = fig.add_subplot()
    y = np.asarray(losses, dtype=float)
    ax.plot(np.arange(1, len(y) + 1), y, lw=0.5, alpha=0.4, label="per step")
    if len(y) >= 20:
        k = max(1, len(y) // 50)
        smooth = np.convolve(y, np.ones(k) / k, mode="valid")
        ax.plot(np.arange(k, len(y) + 1), smooth, lw=1.5, label=f"mean of {k}")
    ax.set_xlabel("step")
    ax.set_ylabel("DSM loss")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


def _plot_samples(x, path: Path, data=None) -> None:
    from matplotlib.figure import Figure
    import numpy as np

    x = np.asarray(x, dtype=float)
    if x.ndim == 2 and x.shape[1] == 2:
        fig = Figure(figsize=(4.5, 4.5), dpi=100)
        ax = fig.add_subplot()
        if data is not None:
            d = np.asarray(data, dtype=float)[: len(x)]
            ax.scatter(d[:, 0], d[:, 1], s=2, alpha=0.3, color="0.6", label="data")
        ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.6, label="samples")
        ax.set_aspect("equal")
        ax.legend(loc="upper right", markerscale=4)
    elif x.ndim == 4:
        k = min(len(x), 64)
        cols = int(np.ceil(np.sqrt(k)))
        rows = int(np.ceil(k / cols))
        h, w = x.shape[2], x.shape[3]
        grid = np.full((rows * (h + 1) + 1, cols * (w + 1) + 1), -1.0)
        for j in range(k):
            r, c = divmod(j, cols)
            grid[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + c * (w + 1): 1 + c * (w + 1) + w] = x[j, 0]
        fig = Figure(figsize=(4, 4 * rows / cols), dpi=100)
        ax = fig.add_subplot()
        ax.imshow(np.clip(grid, -1, 1), cmap="gray_r", vmin=-1, vmax=1, interpolation="nearest")
        ax.axis("off")
    else:
        fig = Figure(figsize=(5, 3.5), dpi=100)
        ax = fig.add_subplot()
        ax.hist(x.reshape(len(x), -1)[:, 0], bins=60)
    fig.tight_layout()
    fig.savefig(path)


def _run_train(args: argparse.Namespace) -> int:
    import torch

    from ddpm_lib.checkpoints import load_checkpoint
    from ddpm_lib.data import make_dataset
    from ddpm_lib.models import EpsMLP, TinyUNet
    from ddpm_lib.sampling import sample
    from ddpm_lib.training import TrainConfig, train

    torch.set_num_threads(max(1, args.threads))
    out = Path(args.out)
    ckpt_path = out / "checkpoint.pt"
    resume = None
    if args.resume is not None:
        resume = Path(args.resume) if args.resume else ckpt_path
        if not resume.is_file():
            print(f"error: cannot resume: no checkpoint at {resume}", file=sys.stderr)
            return 2
    cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
                      grad_clip=args.grad_clip if args.grad_clip > 0 else None, ema_decay=args.ema_decay,
                      seed=args.seed, device=args.device, compile=args.compile, progress=not args.no_progress,
                      log_every=args.log_every, checkpoint_every=args.checkpoint_every)
    try:
        cfg.validate()
    except (ValueError, TypeError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    schedule = _schedule(args.schedule, args.n_steps)
    g = torch.Generator().manual_seed(args.seed)
    data = make_dataset(args.data, None if args.data == "digits" else args.n_data, generator=g)
    if resume is not None:  # rebuild the architecture the checkpoint was made with
        ck = load_checkpoint(resume)
        model = ck.model
        if ck.schedule_betas is not None:
            schedule = ck.schedule()
    else:
        torch.manual_seed(args.seed)
        if data.dim() == 4:
            model = TinyUNet(channels=data.shape[1], image_size=data.shape[2], n_steps=schedule.n)
        else:
            model = EpsMLP(dim=data.shape[1], width=args.width, depth=args.depth, n_steps=schedule.n)
    out.mkdir(parents=True, exist_ok=True)
    extra = {"data": args.data, "shape": list(data.shape[1:])}
    try:
        result = train(model, data, schedule, cfg, checkpoint=ckpt_path, resume_from=resume, checkpoint_extra=extra)
    except KeyboardInterrupt as exc:
        saved = getattr(exc, "checkpoint", None)
        step = getattr(exc, "step", "?")
        msg = f"interrupted at step {step}"
        msg += f"; checkpoint saved to {saved} (continue with --resume)" if saved else ""
        print(msg, file=sys.stderr)
        return 130
    h = result.history
    print(f"trained {h['step'] - h['start_step']} steps in {h['wall_time']:.1f} s "
          f"({h['steps_per_second']:.0f} steps/s) on {result.device}; final loss (mean of last 100) "
          f"{sum(h['loss'][-100:]) / len(h['loss'][-100:]):.4f}")
    _plot_loss(h["loss"], out / "loss.png")
    n_show = 64 if data.dim() == 4 else args.n_samples
    ema = result.ema_model.to("cpu")
    x = sample(ema, schedule, n_show, tuple(data.shape[1:]), generator=torch.Generator().manual_seed(args.seed + 1))
    _plot_samples(x.cpu().numpy(), out / "samples.png", data.numpy() if data.dim() == 2 else None)
    print(f"wrote {ckpt_path}, {out / 'loss.png'}, {out / 'samples.png'}")
    return 0


# -- sample --------------------------------------------------------------------------
def _add_sample_args(p: argparse.ArgumentParser) -> None:
    from ddpm_lib.sampling import SAMPLERS

    p.add_argument("--checkpoint", required=True, help="checkpoint.pt written by 'train'")
    p.add_argument("--n", type=int, default=2000, help="number of samples")
    p.add_argument("--sampler", default="ancestral", choices=SAMPLERS, help="sampler")
    p.add_argument("--steps", type=int, default=None, help="sampler steps for 'ddim' (default: all n steps)")
    p.add_argument("--variance", default="beta", choices=("beta", "beta_tilde"), help="ancestral noise variance")
    p.add_argument("--no-ema", action="store_true", help="sample with the raw weights instead of the EMA weights")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampler's noise")
    p.add_argument("--out", default="samples", help="output folder for samples.npy and samples.png")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch")


def _run_sample(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from ddpm_lib.checkpoints import load_checkpoint
    from ddpm_lib.sampling import sample

    torch.set_num_threads(max(1, args.threads))
    if args.n < 1:
        print(f"error: --n must be >= 1, got {args.n}", file=sys.stderr)
        return 2
    try:
        ck = load_checkpoint(args.checkpoint)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    schedule = ck.schedule()
    if schedule is None:
        print(f"error: {args.checkpoint} stores no noise schedule", file=sys.stderr)
        return 2
    extra = ck.extra or {}
    cfg = ck.model_config
    shape = tuple(extra.get("shape") or ([cfg["dim"]] if "dim" in cfg else
                                         [cfg["channels"], cfg["image_size"], cfg["image_size"]]))
    model = ck.model if args.no_ema else ck.ema_model
    x = sample(model, schedule, args.n, shape, generator=torch.Generator().manual_seed(args.seed),
               sampler=args.sampler, variance=args.variance, steps=args.steps)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    arr = x.cpu().numpy()
    np.save(out / "samples.npy", arr)
    _plot_samples(arr, out / "samples.png")
    print(f"wrote {len(arr)} samples of shape {shape} to {out / 'samples.npy'} and {out / 'samples.png'}")
    return 0


register_subcommand("train", "train a denoiser on a data set and write checkpoint.pt, loss.png, samples.png",
                    _add_train_args, _run_train)
register_subcommand("sample", "draw samples from a checkpoint into samples.npy and samples.png",
                    _add_sample_args, _run_sample)


def _add_export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="checkpoint.pt written by 'train'")
    p.add_argument("--out", required=True, help="path of the sampling-only checkpoint to write")


def _run_export(args: argparse.Namespace) -> int:
    from ddpm_lib.checkpoints import export_for_sampling

    out = export_for_sampling(args.checkpoint, args.out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB): EMA weights, config, schedule and history")
    return 0


register_subcommand("export", "write a small sampling-only checkpoint (EMA weights, no optimizer state)",
                    _add_export_args, _run_export)


def _load_plugins() -> None:
    for mod_name in PLUGIN_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name == mod_name:
                continue
            raise
        if hasattr(mod, "register_cli"):
            mod.register_cli(register_subcommand)
        elif hasattr(mod, "add_arguments") and hasattr(mod, "run"):
            name = mod_name.rsplit(".", 1)[-1]
            help_line = ((mod.__doc__ or name).strip().splitlines() or [name])[0]
            register_subcommand(name, help_line, mod.add_arguments, mod.run)


def build_parser() -> argparse.ArgumentParser:
    """The ``argparse`` parser with every registered subcommand."""
    _load_plugins()
    parser = argparse.ArgumentParser(prog="python -m ddpm_course", description="Train and sample the book's small "
                                     "diffusion models.", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(SUBCOMMANDS) + "}")
    sub.required = True
    for sc in SUBCOMMANDS.values():
        p = sub.add_parser(sc.name, help=sc.help, description=sc.help,
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        sc.add_arguments(p)
        p.set_defaults(_run=sc.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), run the subcommand and return its exit code."""
    args = build_parser().parse_args(argv)
    return int(args._run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
