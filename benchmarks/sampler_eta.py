"""Benchmark: the noise level η of the default sampler, on trained networks (one CPU thread; prints
figures, not a test).

``sample()`` draws with DPM-Solver++(2M) in 25 network calls; ``η = 0`` is the probability-flow ODE,
``η > 0`` its stochastic form (``ddpm_lib.samplers.dpm_solver_2m(..., eta=η)``). The exact ε* favours
``η = 0``; a trained network does not, because the flow carries each error of the network to the end
while injected noise lets later steps wash part of it out. This study measures it on the 2-D data
sets, side by side with the 1000-step ancestral sampler, in one run:

* two families of ``EpsMLP``: ``defaults`` (``TrainConfig()``: batch 256, constant learning rate,
  5,000 steps, about 10 CPU-s) and ``final`` (batch 1024, cosine learning rate to 0, 7,500 steps, about
  30 CPU-s; the setting kept by ``benchmarks/train_2d.py``), each on the ring and the two moons with
  seeds 0 and 1 (8 networks);
* for each network, ``--repeats`` paired repeats: one start ``x_n``, one reference set of 5,000 points
  drawn i.i.d. from a pool of 200,000 and one set of 256 projections shared by every sampler; the
  sliced Wasserstein distance (SWD) of 5,000 samples of each sampler, and of a second reference set
  (the two-sample noise floor);
* per network the mean SWD of each sampler as a multiple of the ancestral sampler's, then mean ± sd
  of those multiples over the networks of each family and over all 8.

    python benchmarks/sampler_eta.py                 # about 10 minutes
    python benchmarks/sampler_eta.py --repeats 3 --etas 0 0.25
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from ddpm_lib.data import make_dataset  # noqa: E402
from ddpm_lib.metrics import sliced_wasserstein  # noqa: E402
from ddpm_lib.models import EpsMLP  # noqa: E402
from ddpm_lib.samplers import dpm_solver_2m  # noqa: E402
from ddpm_lib.sampling import DEFAULT_STEPS, SDE_ETA, sample  # noqa: E402
from ddpm_lib.schedules import linear_schedule  # noqa: E402
from ddpm_lib.training import TrainConfig, train  # noqa: E402

#: the two families of trained networks
FAMILIES = {"defaults": {"steps": 5000},
            "final": {"steps": 7500, "batch_size": 1024, "lr_schedule": "cosine", "lr_min_ratio": 0.0}}
N_POINTS = 5000


def trained(data_name: str, seed: int, family: str, schedule) -> tuple[torch.nn.Module, float]:
    """An EpsMLP trained on 20,000 points of ``data_name``; returns (EMA model, training CPU seconds)."""
    data = make_dataset(data_name, 20_000, generator=torch.Generator().manual_seed(seed))
    torch.manual_seed(seed)
    c0 = time.process_time()
    result = train(EpsMLP(dim=2, n_steps=schedule.n), data, schedule,
                   TrainConfig(seed=seed, device="cpu", progress=False, **FAMILIES[family]))
    return result.ema_model.eval(), time.process_time() - c0


def compare(model: torch.nn.Module, pool: torch.Tensor, schedule, etas: list[float], repeats: int) -> dict[str, float]:
    """Mean SWD of the ancestral sampler, of DPM-Solver++(2M) at each η and of the noise floor."""
    rows: dict[str, list[float]] = {"ancestral": [], **{f"eta {e:g}": [] for e in etas}, "floor": []}
    eps = lambda x, i: model(x.float(), i).double()  # noqa: E731
    s64 = schedule.to(dtype=torch.float64)
    for r in range(repeats):
        g = lambda k: torch.Generator().manual_seed(1000 * r + k)  # noqa: E731
        ref = pool[torch.randint(len(pool), (N_POINTS,), generator=g(1))]
        swd = lambda x: sliced_wasserstein(x.double(), ref, generator=torch.Generator().manual_seed(r))  # noqa: E731
        with torch.no_grad():
            rows["ancestral"].append(swd(sample(model, schedule, N_POINTS, (2,), generator=g(3), sampler="ancestral")))
            for e in etas:
                x = torch.randn(N_POINTS, 2, generator=g(3), dtype=torch.float64)
                rows[f"eta {e:g}"].append(swd(dpm_solver_2m(eps, x, s64, steps=DEFAULT_STEPS, eta=e, generator=g(4))))
        rows["floor"].append(swd(pool[torch.randint(len(pool), (N_POINTS,), generator=g(2))]))
    return {k: statistics.fmean(v) for k, v in rows.items()}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=10, help="paired repeats per network (default 10)")
    p.add_argument("--etas", type=float, nargs="+", default=[0.0, 0.25, 0.5],
                   help="noise levels of DPM-Solver++(2M) to compare (default 0 0.25 0.5)")
    args = p.parse_args(argv)
    if args.repeats < 1 or any(not 0 <= e <= 1 for e in args.etas):
        p.error("--repeats must be >= 1 and every --etas value in [0, 1]")
    torch.set_num_threads(1)
    schedule = linear_schedule(1000)
    print(f"SWD of {N_POINTS} samples to {N_POINTS} fresh points (256 projections), mean of {args.repeats} paired "
          f"repeats, as a multiple of the 1000-step ancestral sampler's; DPM-Solver++(2M) at {DEFAULT_STEPS} calls; "
          f"sample()'s default η = {SDE_ETA:g}")
    ratios: dict[tuple[str, str, int], dict[str, float]] = {}
    for family in FAMILIES:
        for data_name in ("ring", "moons"):
            pool = make_dataset(data_name, 200_000, generator=torch.Generator().manual_seed(99), dtype=torch.float64)
            for seed in (0, 1):
                model, cpu = trained(data_name, seed, family, schedule)
                means = compare(model, pool, schedule, args.etas, args.repeats)
                ratios[family, data_name, seed] = {k: v / means["ancestral"] for k, v in means.items()}
                print(f"{family:8s} {data_name:5s} seed {seed} (trained in {cpu:4.1f} CPU-s): ancestral SWD "
                      f"{means['ancestral']:.4f}; " + ", ".join(f"{k} {v:.2f}x" for k, v in ratios[family, data_name, seed].items()
                                                             if k != "ancestral"), flush=True)
    keys = [f"eta {e:g}" for e in args.etas] + ["floor"]
    for family in (*FAMILIES, "all"):
        for k in keys:
            v = [r[k] for key, r in ratios.items() if family in ("all", key[0])]
            print(f"{family:8s} {k:9s} x ancestral: {statistics.fmean(v):.3f} ± {statistics.stdev(v):.3f} "
                  f"(range {min(v):.2f}-{max(v):.2f}, {len(v)} networks)")


if __name__ == "__main__":
    main()
