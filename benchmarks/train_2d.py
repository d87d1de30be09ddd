"""Benchmark: training and sampling the 2-D EpsMLP on one CPU thread (prints figures; not a test).

1. steps/s of the library loop (``ddpm_lib.training.train``: fused AdamW, clipping, EMA) and of a
   plain hand-written PyTorch loop (default AdamW, no clipping, no EMA) for the same model and
   batch, measured side by side in alternating rounds (best round of each; the machine may be shared);
2. samples/s for 5,000 points: ``ddpm_lib.sampling.sample`` (``samplers.ddpm_ancestral``) vs a plain loop;
3. the ring mixture: training time (evaluations excluded) until the SWD of the EMA model's samples
   is ≤ 1.5× the SWD of the exact-score sampler (same sampler, same step count, same sizes);
   the final DSM loss against the irreducible loss (same Monte Carlo draws, paired); the relative ε
   error by diffusion step;
4. two moons at the same settings: SWD against fresh moons data, against the two-sample noise floor.

    python benchmarks/train_2d.py [--steps 8000] [--eval-every 1000] [--n-eval 2000]
"""
from __future__ import annotations

import argparse
import math
import time

import torch

from ddpm_lib.data import make_dataset
from ddpm_lib.metrics import sliced_wasserstein
from ddpm_lib.mixtures import ring_mixture
from ddpm_lib.models import EpsMLP, count_parameters
from ddpm_lib.samplers import ddpm_ancestral
from ddpm_lib.schedules import linear_schedule
from ddpm_lib.evaluation import eps_error_by_step, irreducible_loss
from ddpm_lib.sampling import sample
from ddpm_lib.training import TrainConfig, train

from _plain import compare_training_throughput, plain_sample_loop  # benchmarks/ is on sys.path when run as a script


@torch.no_grad()
def paired_losses(model, gm, schedule, n_mc, seed):
    """DSM loss of ``model`` and of the exact ε* on the same Monte Carlo draws: (loss, exact, se of diff)."""
    g = torch.Generator().manual_seed(seed)
    x0 = gm.sample(n_mc, generator=g)
    i = torch.randint(1, schedule.n + 1, (n_mc,), generator=g)
    noise = torch.randn(x0.shape, generator=g, dtype=torch.float64)
    a = schedule.alpha_bars[i][:, None]
    xi = a.sqrt() * x0 + (1 - a).sqrt() * noise
    lm = ((model(xi.float(), i).double() - noise) ** 2).mean(1)
    ls = ((gm.eps_fn(schedule)(xi, i) - noise) ** 2).mean(1)
    return float(lm.mean()), float(ls.mean()), float((lm - ls).std() / math.sqrt(n_mc))


def run_quality(name, data, schedule, reference, target_swd, args, label):
    """Train with periodic SWD evaluation; return (result, first train time reaching target, log)."""
    torch.manual_seed(args.seed)
    model = EpsMLP(n_steps=schedule.n)
    log, reached = [], [None]

    def evaluate(state):
        x = sample(state.ema_model, schedule, args.n_eval, (2,), generator=torch.Generator().manual_seed(11))
        swd = sliced_wasserstein(x.double(), reference)
        log.append((state.step, state.train_seconds, swd))
        print(f"  [{name}] step {state.step:6d}  train {state.train_seconds:6.1f} s  SWD {swd:.4f}  "
              f"({swd / target_swd:.2f}× {label})", flush=True)
        if reached[0] is None and swd <= 1.5 * target_swd:
            reached[0] = (state.step, state.train_seconds)

    cfg = TrainConfig(steps=args.steps, batch_size=args.batch, lr=args.lr, ema_decay=args.ema, seed=args.seed,
                      device="cpu", progress=False, log_every=500)
    result = train(model, data, schedule, cfg, callback=evaluate, callback_every=args.eval_every)
    return result, reached[0], log


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=8000)
    p.add_argument("--eval-every", type=int, default=1000)
    p.add_argument("--n-eval", type=int, default=2000)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--ema", type=float, default=0.995)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rounds", type=int, default=5, help="alternating throughput rounds")
    args = p.parse_args()
    torch.set_num_threads(1)
    schedule = linear_schedule(1000)
    sched32 = schedule.to(dtype=torch.float32)
    gm = ring_mixture()
    data = make_dataset("mixture", 50_000, generator=torch.Generator().manual_seed(1))
    print(f"EpsMLP default: {count_parameters(EpsMLP())} parameters; torch {torch.__version__}, 1 CPU thread, "
          f"batch {args.batch}, n = {schedule.n}")

    # 1. throughput, side by side ------------------------------------------------------
    print("\n1. training throughput (best of alternating rounds of 600 steps)")
    plain, lib = compare_training_throughput(EpsMLP, data, schedule, 600, args.batch, args.lr, args.rounds,
                                             warmup_steps=50, log_every=100)
    print(f"  plain loop   {max(plain):7.0f} steps/s   (rounds: {', '.join(f'{v:.0f}' for v in plain)})")
    print(f"  library loop {max(lib):7.0f} steps/s   (rounds: {', '.join(f'{v:.0f}' for v in lib)})")
    print(f"  ratio library/plain = {max(lib) / max(plain):.2f}  (target >= 0.9; the library also clips and "
          f"keeps an EMA)")

    # 2. sampling throughput -------------------------------------------------------------
    print("\n2. sampling 5,000 points, 1000 ancestral steps")
    model = EpsMLP().eval()
    _, plain_sps = plain_sample_loop(model, sched32, 5000, (2,))
    t0 = time.perf_counter()
    sample(model, schedule, 5000, (2,), generator=torch.Generator().manual_seed(0))
    lib_sps = 5000 / (time.perf_counter() - t0)
    print(f"  plain loop {plain_sps:8.0f} samples/s;  library sample() {lib_sps:8.0f} samples/s;  "
          f"ratio {lib_sps / plain_sps:.2f}")

    # 3. the ring mixture against its exact score ------------------------------------------
    print("\n3. ring mixture (8 modes, radius 3, std 0.3)")
    reference = gm.sample(20_000, generator=torch.Generator().manual_seed(2))
    xn = torch.randn(args.n_eval, 2, generator=torch.Generator().manual_seed(11), dtype=torch.float64)
    exact = ddpm_ancestral(gm.eps_fn(schedule), schedule, xn, generator=torch.Generator().manual_seed(12))
    swd_exact = sliced_wasserstein(exact, reference)
    print(f"  exact-score ancestral sampler ({args.n_eval} points, {schedule.n} steps): SWD {swd_exact:.4f} "
          f"against 20,000 fresh draws")
    res, reached, _ = run_quality("mixture", data, schedule, reference, swd_exact, args, "exact")
    h = res.history
    if reached:
        print(f"  reached SWD <= 1.5× exact after {reached[0]} steps, {reached[1]:.1f} s of training "
              f"(target < 60 s)")
    else:
        print(f"  did NOT reach SWD <= 1.5× exact in {args.steps} steps ({h['wall_time']:.1f} s)")
    irr, irr_se = irreducible_loss(gm, schedule, 200_000, torch.Generator().manual_seed(5))
    loss_ema, loss_star, se_diff = paired_losses(res.ema_model, gm, schedule, 200_000, seed=6)
    print(f"  irreducible DSM loss (exact ε*): {irr:.4f} ± {irr_se:.4f}")
    print(f"  final DSM loss, EMA model: {loss_ema:.4f}  vs exact ε* on the same draws {loss_star:.4f}  -> "
          f"{100 * (loss_ema / loss_star - 1):+.2f} % (± {100 * se_diff / loss_star:.2f} %; target within 2 %)")
    last = h["loss"][-500:]
    print(f"  training minibatch loss (mean of last 500 steps, raw weights): {sum(last) / len(last):.4f}")
    print(f"  {h['step']} steps in {h['wall_time']:.1f} s of training ({h['steps_per_second']:.0f} steps/s)")
    steps_list = [1, 10, 50, 100, 250, 500, 750, 1000]
    err = eps_error_by_step(res.ema_model, gm, schedule, steps_list, n=20_000,
                            generator=torch.Generator().manual_seed(7))
    print("  relative ε error ‖ε_θ − ε*‖/‖ε*‖ by step (t_i = OU time):")
    times = schedule.times
    for i, e in zip(steps_list, err.tolist()):
        print(f"    i = {i:5d}  t_i = {float(times[i]):6.3f}   {e:.4f}")

    # 4. two moons ------------------------------------------------------------------------------
    print("\n4. two moons (same settings)")
    moons = make_dataset("moons", 50_000, generator=torch.Generator().manual_seed(1))
    mref = make_dataset("moons", 20_000, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    fresh = make_dataset("moons", args.n_eval, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    floor = sliced_wasserstein(fresh, mref)
    print(f"  noise floor: SWD of {args.n_eval} fresh moons points against the reference: {floor:.4f}")
    res_m, reached_m, _ = run_quality("moons", moons, schedule, mref, floor, args, "floor")
    if reached_m:
        print(f"  reached SWD <= 1.5× floor after {reached_m[0]} steps, {reached_m[1]:.1f} s of training")
    else:
        print(f"  did NOT reach SWD <= 1.5× floor in {args.steps} steps")
    lm = res_m.history["loss"][-500:]
    print(f"  final training loss {sum(lm) / len(lm):.4f}; {res_m.history['steps_per_second']:.0f} steps/s")


if __name__ == "__main__":
    main()
