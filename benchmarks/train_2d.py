"""Benchmark: training quality of the 2-D EpsMLP per CPU-second, one thread (prints figures; not a test).

1. steps/s of the library loop (``ddpm_lib.training.train``) and of the plain hand-written loop of
   ``benchmarks/_plain.py`` (default AdamW, no clipping, no EMA), alternating rounds, best of each;
2. for each data set: the two-sample noise floor of the sliced Wasserstein distance (SWD, 256
   projections) between ``--n-eval`` points and ``--n-eval`` fresh draws, as mean ± sd over
   ``--floor-pairs`` independent pairs;
3. for each data set, training configuration ("variant") and seed: training until ``--budget``
   CPU-seconds of this process (sampling and evaluation excluded); at each of ``--marks`` CPU-seconds
   ``--n-eval`` samples of the EMA model (the raw model for ``plain``) are drawn with ``sample()``'s default
   sampler (``--sampler``, ``--sampler-steps``; ``ancestral``: the 1000-step DDPM sampler, 40× dearer) and their SWD to
   fresh draws (the mean over 4 reference sets) is divided by the floor's mean. For the mixtures the
   same sampler with the exact ε shows the sampler's own share. The plain loop runs in the same process, so the figures are side by side.

A variant's LR schedule needs its total step count: it is set from a 200-step pilot of that
variant (CPU-s per step) so that the schedule ends at the budget. Variants: ``plain``, ``old``
(the library's defaults before issue 16: batch 256, lr 2e-3 constant, EMA 0.995), ``b1024`` (batch
1024), ``cos`` (batch 1024, cosine decay of the lr to 0 at the budget), ``cos256`` (the same at batch
256), ``cos-ema`` (``cos`` with EMA 0.999), ``cos-lr`` (``cos`` with lr 4e-3), ``cos-wide`` (``cos``, width
256), and ``final`` = ``cos``, the configuration kept. The evaluation is noisy: one pair of 5,000-point
sets has an sd of 0.27× the floor's mean on the ring (mode weights fluctuate) and on the moons;
``--eval-repeats`` averages more sample sets. The moons' references and floor are independent draws
from a pool (:func:`fresh_draws`): ``make_moons`` itself spaces its points evenly along the arcs, and
a floor from two of its sets (0.0085) is 2.3× below that of independent draws (0.0196).

    python benchmarks/train_2d.py --datasets ring moons --variants plain old final --seeds 0 1 2
    python benchmarks/train_2d.py --budget 20 --marks 10 20 --variants old b1024   # a pilot
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Callable

import torch

from ddpm_lib.data import make_dataset
from ddpm_lib.metrics import noise_floor, sliced_wasserstein
from ddpm_lib.models import EpsMLP, count_parameters
from ddpm_lib.mixtures import ring_mixture, separated_mixture
from ddpm_lib.samplers import ddpm_ancestral
from ddpm_lib.sampling import DEFAULT_SAMPLER, DEFAULT_STEPS, SAMPLERS
from ddpm_lib.schedules import linear_schedule
from ddpm_lib.training import TrainConfig, train

from _plain import compare_training_throughput, plain_train_loop  # benchmarks/ is on sys.path when run as a script

_OLD = {"batch_size": 256, "lr": 2e-3, "lr_schedule": "constant", "ema_decay": 0.995}
_COS = {"batch_size": 1024, "lr": 2e-3, "lr_schedule": "cosine", "lr_min_ratio": 0.0, "ema_decay": 0.995}
VARIANTS: dict[str, dict[str, Any] | None] = {
    "plain": None,
    "old": _OLD,
    "b1024": {**_OLD, "batch_size": 1024},
    "cos": _COS,
    "cos-ema": {**_COS, "ema_decay": 0.999},
    "cos256": {**_COS, "batch_size": 256},
    "cos-lr": {**_COS, "lr": 4e-3},
    "cos-wide": {**_COS, "model": {"width": 256}},
    "final": _COS,
}
DATASETS = ("ring", "moons", "swiss_roll", "separated")


def fresh_draws(ds: str) -> Callable[[int, torch.Generator], torch.Tensor]:
    """``draw(n, g)``: ``n`` independent draws of data set ``ds`` (float64), for the references and the floor.

    The moons come from a pool of 200,000 points drawn with replacement (as in the book's score-matching
    chapter): ``make_moons`` puts its points on an evenly spaced grid of angles, half on each moon, so two
    of its sets differ only by their Gaussian noise, and their SWD (0.0085 at 5,000 points) is far below
    what any sampler of independent points reaches (an exact i.i.d. sampler of the moons' law: 1.8 ± 0.5×
    that value against the same references).
    """
    if ds != "moons":
        return lambda n, g: make_dataset(ds, n, generator=g, dtype=torch.float64)
    pool = make_dataset(ds, 200_000, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    return lambda n, g: pool[torch.randint(len(pool), (n,), generator=g)]


class CpuClock:
    """CPU-seconds of this process spent outside the evaluation callbacks."""

    def __init__(self) -> None:
        self.used = 0.0
        self._last = time.process_time()

    def enter(self) -> float:
        self.used += time.process_time() - self._last
        return self.used

    def leave(self) -> None:
        self._last = time.process_time()


@torch.no_grad()
def sample_swd(model, schedule, refs: list[torch.Tensor], seed: int, sampler: str, steps: int | None,
               repeats: int = 1, exact: bool = False) -> float:
    """Mean SWD between ``repeats`` sets of ``len(refs[0])`` samples of ``model`` (an ε-model, or the exact ε
    function with ``exact``) and each reference set; ``sampler`` a name of :data:`ddpm_lib.sampling.SAMPLERS`."""
    if repeats > 1:
        return sum(sample_swd(model, schedule, refs, seed + 7919 * k, sampler, steps, exact=exact)
                   for k in range(repeats)) / repeats
    was = getattr(model, "training", False)
    if isinstance(model, torch.nn.Module):
        model.eval()
    g = torch.Generator().manual_seed(seed)
    x_n = torch.randn(refs[0].shape[0], 2, generator=g, dtype=refs[0].dtype if exact else torch.float32)
    if sampler == "ancestral":
        x = ddpm_ancestral(model, x_n, schedule, generator=g)
    else:
        x = SAMPLERS[sampler](model, x_n, schedule, generator=g, steps=steps)
    if isinstance(model, torch.nn.Module):
        model.train(was)
    return sum(sliced_wasserstein(x.double(), r) for r in refs) / len(refs)


def run_variant(name: str, data: torch.Tensor, schedule, args, seed: int,
                evaluate: Callable[[torch.nn.Module], float]) -> tuple[dict[float, float], int, float]:
    """Train variant ``name`` for ``args.budget`` CPU-s; return ({mark: SWD}, steps, CPU-s used)."""
    spec = VARIANTS[name]
    marks = sorted(args.marks)
    out: dict[float, float] = {}
    clock = CpuClock()
    steps_done = [0]

    def at(step: int, model: torch.nn.Module) -> bool:
        used = clock.enter()
        steps_done[0] = step
        while marks and used >= marks[0]:
            mark = marks.pop(0)
            out[mark] = evaluate(model)
            print(f"    ({name}, seed {seed}: SWD {out[mark]:.4f} at {mark:g} CPU-s, step {step})", flush=True)
        clock.leave()
        return not marks

    torch.manual_seed(seed)
    if spec is None:
        model = EpsMLP(n_steps=schedule.n)
        clock.leave()
        plain_train_loop(model, data, schedule.to(dtype=torch.float32), 10 ** 8, 256, 2e-3, seed=seed,
                         callback=at, callback_every=25)
        return out, steps_done[0], clock.used
    spec = dict(spec)
    model_kw = spec.pop("model", {})
    # pilot: CPU-s per step of this variant (steps 50..250, after the first-call costs), so that
    # the lr schedule ends at the budget
    ticks: dict[int, float] = {}

    def tick(state) -> None:
        ticks[state.step] = time.process_time()

    train(EpsMLP(n_steps=schedule.n, **model_kw), data, schedule,
          TrainConfig(steps=250, device="cpu", progress=False, **spec), callback=tick, callback_every=50)
    per_step = (ticks[250] - ticks[50]) / 200
    steps = max(1, int(args.budget / per_step))
    torch.manual_seed(seed)
    model = EpsMLP(n_steps=schedule.n, **model_kw)
    cfg = TrainConfig(steps=steps, seed=seed, device="cpu", progress=False, log_every=500, **spec)
    clock.leave()
    res = train(model, data, schedule, cfg, callback=lambda s: at(s.step, s.ema_model), callback_every=25)
    used = clock.enter()
    for m in list(marks):  # the schedule ended before the budget: the final EMA model stands for the marks left
        out[m] = evaluate(res.ema_model)
    return out, steps, used


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=["ring", "moons"], choices=DATASETS)
    p.add_argument("--variants", nargs="+", default=["plain", "old", "final"], choices=list(VARIANTS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--budget", type=float, default=60.0, help="training CPU-seconds per run (default 60)")
    p.add_argument("--marks", nargs="+", type=float, default=[15, 30, 45, 60], help="CPU-seconds to evaluate at")
    p.add_argument("--n-eval", type=int, default=5000, help="samples per evaluation (default 5000)")
    p.add_argument("--sampler", choices=["dpm++2m", "dpm++2m-sde", "ancestral"], default=DEFAULT_SAMPLER,
                   help=f"evaluation sampler (default {DEFAULT_SAMPLER}, sample()'s default) over --sampler-steps "
                        "network calls, or the 1000-step ancestral sampler")
    p.add_argument("--sampler-steps", type=int, default=DEFAULT_STEPS,
                   help=f"network calls of the dpm++2m samplers (default {DEFAULT_STEPS})")
    p.add_argument("--eval-repeats", type=int, default=1,
                   help="independent sample sets per evaluation, averaged (default 1; 4 cuts the spread by half)")
    p.add_argument("--floor-pairs", type=int, default=20, help="pairs for the noise floor (default 20)")
    p.add_argument("--rounds", type=int, default=3, help="alternating throughput rounds (0: skip section 1)")
    args = p.parse_args()
    if args.eval_repeats < 1 or args.n_eval < 2 or args.floor_pairs < 2 or args.budget <= 0 or max(args.marks) > args.budget:
        print("error: need --eval-repeats >= 1, --n-eval >= 2, --floor-pairs >= 2, --budget > 0 and every mark <= --budget",
              file=sys.stderr)
        sys.exit(2)
    torch.set_num_threads(1)
    schedule = linear_schedule(1000)
    print(f"EpsMLP default: {count_parameters(EpsMLP())} parameters; torch {torch.__version__}, 1 CPU thread; "
          f"budget {args.budget:g} CPU-s; marks {args.marks}; {args.n_eval} samples per evaluation")

    if args.rounds:
        print("\n1. training throughput at batch 256 (best of alternating rounds of 600 steps)")
        data = make_dataset("ring", 50_000, generator=torch.Generator().manual_seed(1))
        plain, lib = compare_training_throughput(EpsMLP, data, schedule, 600, 256, 2e-3, args.rounds,
                                                 warmup_steps=50, log_every=100)
        print(f"  plain loop {max(plain):6.0f} steps/s, library loop {max(lib):6.0f} steps/s, "
              f"ratio {max(lib) / max(plain):.2f}")

    for ds in args.datasets:
        draw = fresh_draws(ds)
        mean, sd = noise_floor(draw, args.n_eval, repeats=args.floor_pairs,
                               generator=torch.Generator().manual_seed(100))
        refs = [draw(args.n_eval, torch.Generator().manual_seed(200 + k)) for k in range(4)]
        data = make_dataset(ds, 50_000, generator=torch.Generator().manual_seed(1))
        print(f"\n2. {ds}: noise floor SWD({args.n_eval} vs {args.n_eval} fresh draws) = {mean:.4f} ± {sd:.4f} "
              f"(mean ± sd over {args.floor_pairs} pairs; one pair's sd is {sd / mean:.2f}× the mean)")
        gm = {"ring": ring_mixture, "separated": separated_mixture}.get(ds)
        if gm is not None:  # the sampler's own error: the same sampler with the exact ε of the mixture
            sw = sample_swd(gm().eps_fn(schedule), schedule, refs, 999, args.sampler, args.sampler_steps,
                            args.eval_repeats, exact=True)
            print(f"  the exact ε with {args.sampler} ({args.sampler_steps} steps): SWD {sw:.4f} = {sw / mean:.2f}× floor")
        print(f"3. {ds}: SWD / floor mean at CPU-s {', '.join(f'{m:g}' for m in sorted(args.marks))}")
        for name in args.variants:
            for seed in args.seeds:
                t_wall = time.perf_counter()
                vals, steps, used = run_variant(
                    name, data, schedule, args, seed,
                    lambda m: sample_swd(m, schedule, refs, 1000 + seed, args.sampler, args.sampler_steps,
                                         args.eval_repeats))
                row = "  ".join(f"{vals[m] / mean:5.2f}" for m in sorted(vals))
                print(f"  {ds:10s} {name:8s} seed {seed}:  {row}   ({steps} steps, {used:.0f} CPU-s, "
                      f"{time.perf_counter() - t_wall:.0f} s wall)", flush=True)


if __name__ == "__main__":
    main()
