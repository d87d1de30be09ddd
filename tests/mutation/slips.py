"""Realistic slips in ``ddpm_lib``: the mistakes a person makes when writing diffusion code.

Each slip replaces one exact piece of the library's source (``old`` → ``new``; ``old`` must occur
exactly once). ``tests/mutation/run_slips.py`` applies them one at a time to a copy of the project
and asserts that

* the unit tests in ``tests`` fail with an assertion (not a crash), and
* the chapter ``chapter`` stops on one of the book checks named in ``checks`` (a ✘ on a check about
  this step; the first check to fail is the one reported, so ``checks`` lists the acceptable ones).

``tests/test_slips.py`` (run in CI) keeps this list from rotting: every ``old`` still occurs once,
every patched file still parses, every named check exists in its chapter's source.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Slip:
    """One realistic mistake and where it must be caught."""

    id: str
    what: str
    file: str
    old: str
    new: str
    chapter: str = ""
    checks: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()


SLIPS: list[Slip] = [
    # -- the forward process (ddpm_lib/forward.py) ----------------------------------------
    Slip("ou-mean-rate", "OU mean decays like e^{-t} instead of e^{-t/2}",
         "ddpm_lib/forward.py", 'return B.exp(-check_time(t, "t") / 2)', 'return B.exp(-check_time(t, "t"))',
         "ou_forward", ("moment-odes",), ("tests/test_forward.py",)),
    Slip("ou-variance-rate", "OU variance 1 − e^{−t/2} instead of 1 − e^{−t}",
         "ddpm_lib/forward.py", 'return 1 - B.exp(-check_time(t, "t"))', 'return 1 - B.exp(-check_time(t, "t") / 2)',
         "ou_forward", ("ito-isometry-variance",), ("tests/test_forward.py",)),
    Slip("ou-diffusion-sqrt2", "g = √2 in the OU SDE (the Langevin constant carried over)",
         "ddpm_lib/forward.py", "dx = f dt + g dW``.\"\"\"\n    return 1", "dx = f dt + g dW``.\"\"\"\n    return 2 ** 0.5",
         "ou_forward", ("ou-is-half-speed-langevin",), ("tests/test_forward.py",)),
    Slip("ou-drift-sign", "drift +x/2: the forward process explodes instead of contracting",
         "ddpm_lib/forward.py", "    return -x / 2", "    return x / 2",
         "ou_forward", ("drift-is-half-score",), ("tests/test_forward.py",)),
    Slip("vp-step-noise-var", "β for √β in the VP step's noise",
         "ddpm_lib/forward.py", "return B.sqrt(1 - beta) * x + B.sqrt(beta) * noise", "return B.sqrt(1 - beta) * x + beta * noise",
         "ou_forward", ("vp-induction-step",), ("tests/test_forward.py",)),
    Slip("vp-marginal-eps-coef", "1 − ᾱ for √(1 − ᾱ) in front of ε in q(x_i | x_0)",
         "ddpm_lib/forward.py", "B.sqrt(alpha_bar) * x0 + B.sqrt(1 - alpha_bar) * noise", "B.sqrt(alpha_bar) * x0 + (1 - alpha_bar) * noise",
         "ddpm_discrete", ("posterior-variance",), ("tests/test_forward.py",)),
    Slip("vp-marginal-mean-coef", "ᾱ for √ᾱ in front of x_0 in q(x_i | x_0)",
         "ddpm_lib/forward.py", "B.sqrt(alpha_bar) * x0 + B.sqrt(1 - alpha_bar) * noise", "alpha_bar * x0 + B.sqrt(1 - alpha_bar) * noise",
         "ddpm_discrete", ("posterior-mean",), ("tests/test_forward.py",)),
    # -- schedules (ddpm_lib/schedules.py) -------------------------------------------------
    Slip("alpha-bar-off-by-one", "ᾱ_i = α_1⋯α_{i−1}: the cumulative product shifted by one step",
         "ddpm_lib/schedules.py", "return torch.cumprod(self.alphas, dim=0)",
         "return torch.cat([self.alphas.new_ones(1), torch.cumprod(self.alphas, dim=0)[:-1]])",
         "ddpm_discrete", ("posterior-variances-library",), ("tests/test_schedules.py",)),
    Slip("times-off-by-one", "t_i = β_1 + … + β_{i−1}",
         "ddpm_lib/schedules.py", "return torch.cumsum(self.betas, dim=0)",
         "return torch.cat([self.betas.new_zeros(1), torch.cumsum(self.betas, dim=0)[:-1]])",
         "ou_forward", ("clock-bound-linear",), ("tests/test_schedules.py",)),
    Slip("posterior-variance-inverted", "β̃_i = (1 − ᾱ_i) β_i / (1 − ᾱ_{i−1}): the ratio upside down",
         "ddpm_lib/schedules.py", "out[1:] = (1 - ab[:-1]) / (1 - ab[1:]) * self.betas[1:]",
         "out[1:] = (1 - ab[1:]) / (1 - ab[:-1]).clamp_min(1e-12) * self.betas[1:]",
         "ddpm_discrete", ("posterior-variances-library",), ("tests/test_schedules.py",)),
    Slip("cosine-offset-dropped", "the cosine schedule's offset s dropped: f(u) = cos²(uπ/2)",
         "ddpm_lib/schedules.py", "f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2", "f = torch.cos(u * math.pi / 2) ** 2",
         "ou_forward", ("cosine-schedule-definition",), ("tests/test_schedules.py",)),
    Slip("linear-endpoints-reversed", "β decreasing: the linear schedule's endpoints swapped",
         "ddpm_lib/schedules.py", "torch.linspace(beta_start, beta_end, n, dtype=torch.float64)",
         "torch.linspace(beta_end, beta_start, n, dtype=torch.float64)",
         "ou_forward", ("linear-schedule-definition",), ("tests/test_schedules.py",)),
    # -- samplers (ddpm_lib/samplers/) -----------------------------------------------------
    Slip("langevin-noise-sqrt-h", "√h for √(2h) in the Langevin step",
         "ddpm_lib/samplers/stochastic.py", "noise_scale = math.sqrt(2 * h)", "noise_scale = math.sqrt(h)",
         "langevin", ("langevin-gaussian-simulated",), ("tests/test_samplers.py",)),
    Slip("langevin-score-sign", "x − h s(x): walking down the score",
         "ddpm_lib/samplers/stochastic.py", "x = (x + h * s).add_(run.noise(x), alpha=noise_scale)",
         "x = (x - h * s).add_(run.noise(x), alpha=noise_scale)",
         "langevin", ("langevin-gaussian-simulated",), ("tests/test_samplers.py",)),
    Slip("reverse-sde-score-sign", "the reverse SDE with −s: the score's sign flipped",
         "ddpm_lib/samplers/stochastic.py", "x = (x * (1 + 0.5 * h)).add_(s, alpha=h)", "x = (x * (1 + 0.5 * h)).add_(s, alpha=-h)",
         "reverse_sde", ("round-trip-mean",), ("tests/test_samplers.py",)),
    Slip("reverse-sde-drift-sign", "the reverse SDE's linear drift −½x instead of +½x",
         "ddpm_lib/samplers/stochastic.py", "x = (x * (1 + 0.5 * h)).add_(s, alpha=h)", "x = (x * (1 - 0.5 * h)).add_(s, alpha=h)",
         "reverse_sde", ("round-trip-mean",), ("tests/test_samplers.py",)),
    Slip("reverse-sde-score-late", "the reverse SDE's score taken at t_{j−1} instead of t_j",
         "ddpm_lib/samplers/stochastic.py", "t, h = times[j], times[j] - times[j - 1]", "t, h = times[j - 1], times[j] - times[j - 1]",
         "reverse_sde", ("em-recursion-mean",), ("tests/test_samplers.py",)),
    Slip("backward-chain-score-step", "the discrete backward chain's score at t_{i−1}",
         "ddpm_lib/samplers/stochastic.py", "s = run.call(x, times[i], n - i + 1, i)", "s = run.call(x, times[i - 1], n - i + 1, i)",
         "reverse_sde", ("chain-recursion-mean",), ("tests/test_samplers.py",)),
    Slip("ancestral-beta-tilde-swap", "β̃ used where the sampler was asked for β (the two variances swapped)",
         "ddpm_lib/samplers/stochastic.py", 'sig2 = betas if variance == "beta" else schedule.posterior_variances.tolist()',
         'sig2 = schedule.posterior_variances.tolist() if variance == "beta" else betas',
         "ddpm_discrete", ("ancestral-library-beta",), ("tests/test_mutation_kills.py",)),
    Slip("ancestral-eps-coef", "β_i/(1 − ᾱ_i) for β_i/√(1 − ᾱ_i) in the ancestral mean",
         "ddpm_lib/samplers/stochastic.py", "x = (x - (beta / math.sqrt(1 - alpha_bars[i])) * e)",
         "x = (x - (beta / (1 - alpha_bars[i])) * e)",
         "ddpm_discrete", ("ancestral-library-beta",), ("tests/test_samplers.py",)),
    Slip("ancestral-noise-at-last-step", "noise added at the last step i = 1 too",
         "ddpm_lib/samplers/stochastic.py", "        if i > 1:\n            x = x.add_(run.noise(x), alpha=math.sqrt(sig2[i]))",
         "        if i > 0:\n            x = x.add_(run.noise(x), alpha=math.sqrt(sig2[i]))",
         "ddpm_discrete", ("ancestral-library-beta",), ("tests/test_samplers.py",)),
    Slip("pf-ode-full-score", "probability-flow drift −½x − s: the SDE's g² s instead of ½ g² s",
         "ddpm_lib/samplers/ode.py", "d0 = (x + run.call(x, t0, k, t0)).mul_(-0.5)", "d0 = (x + 2 * run.call(x, t0, k, t0)).mul_(-0.5)",
         "duality", ("ode-marginal",), ("tests/test_samplers.py",)),
    Slip("heun-no-corrector", "Heun's corrector dropped: the update uses the predictor's slope twice",
         "ddpm_lib/samplers/ode.py", "x = (x + (0.5 * h) * d0).add_(d1, alpha=0.5 * h)", "x = (x + (0.5 * h) * d0).add_(d0, alpha=0.5 * h)",
         "duality", ("encode-order",), ("tests/test_samplers.py",)),
    Slip("ddim-index-slip", "DDIM predicts x̂_0 with the next step's σ (an index slip)",
         "ddpm_lib/samplers/ode.py", "x0_hat = (x - sigmas[m] * e) / alphas[m]", "x0_hat = (x - sigmas[m + 1] * e) / alphas[m]",
         "ddpm_discrete", ("ring-samplers-200",), ("tests/test_samplers.py",)),
    Slip("dpm2m-wrong-ratio", "DPM-Solver++(2M) with r = h_m/h_{m−1} upside down",
         "ddpm_lib/samplers/ode.py", "dd = d if d_prev is None else d + (h / (2 * h_prev)) * (d - d_prev)",
         "dd = d if d_prev is None else d + (h_prev / (2 * h)) * (d - d_prev)",
         # no book check: on the log-SNR grid the book uses h_{m−1} = h_m, so the slip changes nothing there
         "", (), ("tests/test_mutation_kills.py",)),
    Slip("karras-rho-inverted", "the Karras grid with ρ in place of 1/ρ",
         "ddpm_lib/samplers/ode.py", "sig = (s_lo + torch.linspace(0, 1, n + 1, dtype=torch.float64) * (s_hi - s_lo)) ** rho",
         "sig = (s_lo + torch.linspace(0, 1, n + 1, dtype=torch.float64) * (s_hi - s_lo)) ** (1 / rho)",
         "fast_sampling", ("karras-grid-rho-spacing",), ("tests/test_samplers_ode.py", "tests/test_mutation_kills.py")),
    Slip("score-from-eps-variance", "σ² for σ in score_from_eps: s = −ε/(1 − ᾱ)",
         "ddpm_lib/samplers/convert.py", "sigmas = torch.sqrt(1 - schedule.alpha_bars)  # (n + 1,)",
         "sigmas = 1 - schedule.alpha_bars  # (n + 1,)",
         "ddpm_discrete", ("score-from-eps-exact",), ("tests/test_samplers.py",)),
    # -- exact mixture scores (ddpm_lib/mixtures.py) -----------------------------------------
    Slip("diffused-mixture-no-noise", "the (1 − ᾱ)I term dropped from a diffused mixture's covariances",
         "ddpm_lib/mixtures.py", "a * a * self.covariances + v * eye,", "a * a * self.covariances + 0 * v * eye,",
         "reverse_sde", ("round-trip-variance",), ("tests/test_mixtures.py",)),
    Slip("diffused-mixture-mean-scale", "means scaled by a² instead of a when diffusing a mixture",
         "ddpm_lib/mixtures.py", "return GaussianMixture(self.weights, a * self.means,", "return GaussianMixture(self.weights, a * a * self.means,",
         "reverse_sde", ("round-trip-mean",), ("tests/test_mixtures.py",)),
    Slip("mixture-score-no-noise", "the noise variance v dropped from the exact diffused score",
         "ddpm_lib/mixture_scores.py", "D = (a_col * a_col) * self._iso_var + v_col  # (K,) or (N, K)",
         "D = (a_col * a_col) * self._iso_var + 0 * v_col + 1e-12  # (K,) or (N, K)",
         "score_matching", ("score-identity-ring",), ("tests/test_mixtures.py",)),
    # -- metrics (ddpm_lib/metrics.py) -----------------------------------------------------------
    Slip("swd-unnormalised", "sliced Wasserstein projections not normalised to unit length",
         "ddpm_lib/metrics.py", "theta = theta / theta.norm(dim=1, keepdim=True).clamp_min(1e-300)", "theta = theta",
         "langevin", ("swd-of-a-shift",), ("tests/test_metrics.py",)),
    Slip("noise-floor-half-n", "the noise floor computed from samples of half the size",
         "ddpm_lib/metrics.py", "values = [float(metric(sample(n, gen), sample(n, gen))) for _ in range(repeats)]",
         "values = [float(metric(sample(max(n // 2, 1), gen), sample(max(n // 2, 1), gen))) for _ in range(repeats)]",
         "langevin", ("ring-swd-large-step",), ("tests/test_metrics.py", "tests/test_mutation_kills.py")),
    # -- training (ddpm_lib/training.py) -------------------------------------------------------------
    Slip("dsm-loss-reweighted", "the DSM loss reweighted by 1/(1 − ᾱ_i) (a score loss called an ε loss)",
         "ddpm_lib/training.py", "    return F.mse_loss(pred.to(noise.dtype), noise)\n",
         "    return (F.mse_loss(pred.to(noise.dtype), noise, reduction='none') / (1 - alpha_bar)).mean()\n",
         "score_matching", ("final-loss-near-floor",), ("tests/test_training.py",)),
]
