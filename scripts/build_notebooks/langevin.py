"""Build book/langevin.ipynb (unexecuted) from the cells below.

    python scripts/build_notebooks/langevin.py
    jupyter nbconvert --to notebook --execute --inplace book/langevin.ipynb

The cells live here as Python strings so that the chapter can be regenerated and diffed.
"""
from __future__ import annotations

from _nb import code, main, md


# ---------------------------------------------------------------------------------------
md(r"""
# Langevin dynamics

*Runs in about RUNTIME s on a laptop CPU (one thread). No GPU is used.*

Suppose we know the **score** $s(x) = \nabla \log p(x)$ of a distribution $p$ but cannot sample
from $p$ directly. Knowing the score is knowing $p$ up to its normalising constant, and a
remarkably simple stochastic process turns that knowledge into samples: follow the score
uphill, and add just the right amount of noise. This is **Langevin dynamics**, and it is the
engine inside every score-based sampler {cite}`song2019generative,song2021scorebased`.

In this chapter we

1. write the Langevin SDE and its Fokker–Planck equation, and prove — with SymPy, for a
   general potential — that $p$ is left unchanged: Langevin is an "identity" on $p$;
2. see that the factor $\sqrt 2$ in front of the noise is not a convention but the one value
   that works;
3. discretise it into the **unadjusted Langevin algorithm**, compute its bias exactly for a
   Gaussian target, and confirm the formula by simulation;
4. sample a 2-D mixture with the exact score and measure the result against a noise floor;
5. see the two ways plain Langevin fails — it cannot cross between well-separated modes, and
   it is led astray where the score is inaccurate — which is why diffusion models start from
   noise and anneal through a family of smoothed distributions.

Every step of mathematics is followed by a cell that checks it; a passing check prints a line
starting with ✔, a failing one stops the notebook.
""")

code(r"""
%matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
import torch

from ddpm_lib import verify
from ddpm_lib import forward as F
from ddpm_lib.exercises import check
from ddpm_lib.metrics import noise_floor, sliced_wasserstein
from ddpm_lib.mixtures import ring_mixture, separated_mixture
from ddpm_lib.notebook import setup
from ddpm_lib.samplers import langevin

g = setup("Langevin dynamics")   # one thread, float64, fixed seeds; g is a seeded torch.Generator
""")

# ---------------------------------------------------------------------------------------
md(r"""
## The Langevin SDE

Write the target as a Gibbs density, $p(x) = e^{-U(x)}/Z$, with a **potential** $U$ and an
unknown constant $Z$. Then $s = \nabla \log p = -\nabla U$: the score is the force of the
potential, and $Z$ has dropped out.

:::{prf:definition} Langevin dynamics
:label: langevin-def-sde

For a density $p$ on $\R^d$ with score $s = \nabla \log p$, **Langevin dynamics** is the
stochastic differential equation

$$
\mathrm{d}x_\tau = s(x_\tau)\,\mathrm{d}\tau + \sqrt{2}\,\mathrm{d}W_\tau ,
$$

where $W$ is a standard Brownian motion in $\R^d$. We call its clock $\tau$, the **Langevin
time**, to keep it apart from the forward time $t$ of the diffusion process: $\tau$ does not
add noise to the data, it only moves particles around inside one fixed distribution.
:::

The drift pulls each particle towards higher density; the noise spreads particles out. The
density $p_\tau$ of $x_\tau$ evolves by the **Fokker–Planck equation**. For a general SDE
$\mathrm{d}x = f(x)\,\mathrm{d}\tau + g\,\mathrm{d}W$ with constant $g$, it reads

$$
\frac{\partial p}{\partial \tau} = -\nabla\cdot J, \qquad
J = f\,p - \frac{g^2}{2}\,\nabla p ,
$$

a conservation law for probability with the **probability current** $J$: transport by the drift
minus spreading by the noise. For Langevin dynamics, $f = s$ and $g^2/2 = 1$, so

$$
\frac{\partial p}{\partial \tau} = -\nabla\cdot\bigl(s\,p\bigr) + \Delta p .
$$

We code the current once, for a general drift and diffusion coefficient, and use it for every
check below.
""")

code(r"""
x, y, tau = sp.symbols("x y tau", real=True)
Z = sp.symbols("Z", positive=True)


def current(p, drift, noise, coords):
    # probability current J = f p - (g^2/2) grad p of dx = f dtau + g dW, g = noise (one entry per coordinate)
    return sp.Matrix([drift[i] * p - noise**2 / 2 * sp.diff(p, c) for i, c in enumerate(coords)])


def fp_rhs(p, drift, noise, coords):
    # right-hand side of the Fokker-Planck equation, -div J
    J = current(p, drift, noise, coords)
    return -sum(sp.diff(J[i], c) for i, c in enumerate(coords))


def score_of(p, coords):
    # the score grad log p, computed by SymPy from the density
    return [sp.diff(sp.log(p), c) for c in coords]
""")

md(r"""
Before using it, we test this Fokker–Planck operator on a case with a known answer. The
Langevin dynamics of $\N(0, 1)$ has score $s(x) = -x$, so $\mathrm{d}x = -x\,\mathrm{d}\tau +
\sqrt 2\,\mathrm{d}W$ is an Ornstein–Uhlenbeck process; started from $\N(m_0, v_0)$, its law at
time $\tau$ is Gaussian with mean $m_0 e^{-\tau}$ and variance $1 + (v_0 - 1)e^{-2\tau}$, which
tends to $\N(0, 1)$ from any start. That Gaussian must solve the Fokker–Planck equation.

This is also the forward process of the book in disguise: as the chapter on the
Ornstein–Uhlenbeck forward process shows, $\mathrm{d}x = -\tfrac12 x\,\mathrm{d}t + \mathrm{d}W$ is
this Langevin dynamics run at half speed, $\tau = t/2$. We check that with the library's own
`ou_drift`, `ou_diffusion`, `ou_mean_scale` and `ou_variance`.
""")

code(r"""
m0 = sp.symbols("m_0", real=True)
v0 = sp.symbols("v_0", positive=True)
sqrt2 = sp.sqrt(2)


def gaussian_pdf(x, mean, var):
    return sp.exp(-(x - mean)**2 / (2 * var)) / sp.sqrt(2 * sp.pi * var)


s_normal = score_of(gaussian_pdf(x, 0, 1), [x])                       # [-x]
mean_tau, var_tau = m0 * sp.exp(-tau), 1 + (v0 - 1) * sp.exp(-2 * tau)
p_tau = gaussian_pdf(x, mean_tau, var_tau)
def over_p(expr, p):
    # expr / p as one fraction: the Gaussian factor cancels and a polynomial identity is left
    return sp.together(sp.expand(expr / p))


verify.symbolic_zero("fp-gaussian-solution", over_p(sp.diff(p_tau, tau) - fp_rhs(p_tau, s_normal, sqrt2, [x]), p_tau),
                     "N(m0 e^-tau, 1 + (v0 - 1) e^-2tau) solves the Fokker-Planck equation of Langevin for N(0, 1)")

with verify.wrong_variant("fp-without-one-half", "a Fokker-Planck equation with g^2 (not g^2/2) in front of the Laplacian"):
    rhs_wrong = -sp.diff(s_normal[0] * p_tau, x) + sqrt2**2 * sp.diff(p_tau, x, 2)
    verify.symbolic_zero("fp-without-one-half", over_p(sp.diff(p_tau, tau) - rhs_wrong, p_tau), "the Gaussian solves it")
""")

code(r"""
# the forward OU SDE dx = f dt + g dW, with t = 2 tau: dx = 2 f dtau + g sqrt(2) dW_tau
verify.symbolic_equal("ou-drift-is-half-score", 2 * F.ou_drift(x), s_normal[0],
                      "in Langevin time tau = t/2 the OU drift is the score of N(0, 1)")
verify.symbolic_equal("ou-noise-is-sqrt2", F.ou_diffusion() * sp.sqrt(2), sqrt2,
                      "in Langevin time tau = t/2 the OU noise coefficient is sqrt(2)")
verify.symbolic_equal("ou-transition-is-langevin", sp.Matrix([F.ou_mean_scale(2 * tau), F.ou_variance(2 * tau)]),
                      sp.Matrix([mean_tau.subs(m0, 1), var_tau.subs(v0, 0)]),
                      "the OU transition from a point x0, at t = 2 tau, is the Langevin law above with v0 = 0")
""")

md(r"""
We can watch the Gaussian solution emerge from simulated particles. Start $20\,000$ particles
at $\N(3, 0.1^2)$ and move them by small Euler–Maruyama steps ($h = 10^{-3}$) of
$\mathrm{d}x = -x\,\mathrm{d}\tau + \sqrt 2\,\mathrm{d}W$ with the library's sampler (the next
section defines it). At Langevin time $\tau = 0.5$ their mean and variance should be
$3e^{-0.5}$ and $1 + (0.01 - 1)e^{-1}$, up to Monte Carlo error (standard errors
$\sqrt{v/n}$ and $v\sqrt{2/n}$) and a discretisation bias of order $h$, far smaller.
""")

code(r"""
n_ou, h_ou = 20_000, 1e-3
snap_times = [0.0, 0.1, 0.5, 1.5]
snap_steps = [round(tt / h_ou) for tt in snap_times]
ou_path = [3 + 0.1 * torch.randn(n_ou, generator=g)]            # particles at each snapshot time
for k0, k1 in zip(snap_steps[:-1], snap_steps[1:]):
    ou_path.append(langevin(lambda q: -q, ou_path[-1][:, None], h_ou, k1 - k0, generator=g)[:, 0])
mean_exact = [float(mean_tau.subs({m0: 3, tau: tt})) for tt in snap_times]
var_exact = [float(var_tau.subs({v0: 0.01, tau: tt})) for tt in snap_times]
half = snap_times.index(0.5)
m_sim, v_sim_ou = ou_path[half].mean().item(), ou_path[half].var().item()
verify.within_standard_errors("langevin-gaussian-simulated",
                              [m_sim, v_sim_ou], [mean_exact[half], var_exact[half]],
                              [math.sqrt(var_exact[half] / n_ou), var_exact[half] * math.sqrt(2 / n_ou)],
                              "simulated Langevin particles for N(0, 1) have the Fokker-Planck mean and variance at tau = 0.5")
""")

code(r"""
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
tau_axis = np.arange(snap_steps[-1] + 1) * h_ou
few = langevin(lambda q: -q, torch.full((5, 1), 3.0), h_ou, snap_steps[-1], generator=g, return_path=True)[:, :, 0]
axes[0].plot(tau_axis, few.numpy(), lw=0.8)
axes[0].plot(tau_axis, 3 * np.exp(-tau_axis), "k--", lw=1.2, label=r"mean $3e^{-\tau}$")
axes[0].set_xlabel(r"Langevin time $\tau$")
axes[0].set_ylabel("$x$")
axes[0].set_title("five paths from $x_0 = 3$")
axes[0].legend(fontsize=9)
grid = np.linspace(-4, 4.5, 400)
for k, (tt, mm, vv) in enumerate(zip(snap_times, mean_exact, var_exact)):
    color = f"C{k}"
    axes[1].hist(ou_path[k].numpy(), bins=80, density=True, alpha=0.35, color=color)
    axes[1].plot(grid, np.exp(-(grid - mm)**2 / (2 * vv)) / np.sqrt(2 * np.pi * vv), color=color, label=f"$\\tau$ = {tt:g}")
axes[1].plot(grid, np.exp(-grid**2 / 2) / np.sqrt(2 * np.pi), "k:", lw=1.5, label=r"target $\mathcal{N}(0, 1)$")
axes[1].set_ylim(0, 1.5)
axes[1].set_xlabel("$x$")
axes[1].set_title(r"densities $p_\tau$: simulated and exact")
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()
""")

md(r"""
**Figure 1.** Langevin dynamics for $\N(0, 1)$. Left: five paths from $x_0 = 3$; the drift pulls
them towards the origin at rate $e^{-\tau}$ while the noise spreads them. Right: histograms of
$20\,000$ particles started at $\N(3, 0.1^2)$, at four Langevin times, against the Gaussian solution
of the Fokker–Planck equation (lines). By $\tau = 1.5$ the cloud is close to the target (dotted).
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Langevin dynamics leaves $p$ unchanged

:::{prf:theorem} Stationarity of the Gibbs density
:label: langevin-thm-stationary

Let $p = e^{-U}/Z$ with $U$ smooth. For Langevin dynamics with score $s = -\nabla U$, the
probability current of $p$ vanishes identically, $J = s\,p - \nabla p = 0$. Hence $p$ is a
stationary solution of the Fokker–Planck equation: if $x_0 \sim p$ then $x_\tau \sim p$ for all
$\tau \ge 0$.
:::

:::{prf:proof}
$\nabla p = p\,\nabla \log p = p\,s$, so $J = s\,p - \nabla p = s\,p - s\,p = 0$, and then
$\partial p/\partial \tau = -\nabla \cdot J = 0$.
:::

The proof is one line, but it shows exactly where the $\sqrt 2$ comes in: the noise
contributes $-\tfrac{g^2}{2}\nabla p$ to the current, and only $g^2/2 = 1$ cancels the drift's
$s\,p$. We check the theorem for a completely general potential: $U$ is an undefined SymPy
function, first of one variable and then of two.
""")

code(r"""
U1 = sp.Function("U")(x)
p1 = sp.exp(-U1) / Z
s1 = score_of(p1, [x])
verify.symbolic_equal("score-is-minus-grad-U", s1[0], -sp.diff(U1, x), "the score of e^-U / Z is -U', with no Z")
verify.symbolic_zero("current-vanishes-1d", current(p1, s1, sqrt2, [x]),
                     "for every potential U(x) the Langevin current s p - p' of p = e^-U/Z is zero")
verify.symbolic_zero("fp-stationary-1d", fp_rhs(p1, s1, sqrt2, [x]),
                     "p = e^-U/Z is a stationary solution of the Langevin Fokker-Planck equation")
""")

code(r"""
U2 = sp.Function("U")(x, y)
p2 = sp.exp(-U2) / Z
s2 = score_of(p2, [x, y])
verify.symbolic_zero("current-vanishes-2d", current(p2, s2, sqrt2, [x, y]),
                     "for every potential U(x, y) the 2-D Langevin current s p - grad p is zero")
verify.symbolic_zero("fp-stationary-2d", fp_rhs(p2, s2, sqrt2, [x, y]),
                     "p = e^-U(x,y)/Z is stationary for 2-D Langevin dynamics")
""")

md(r"""
Both halves of the recipe matter. Halve the noise's variance ($\mathrm{d}x = s\,\mathrm{d}\tau +
\mathrm{d}W$) and the current becomes $s\,p - \tfrac12 \nabla p = \tfrac12 s\,p \neq 0$: the drift
wins, and the dynamics settles on $p^2$ (normalised), a sharpened version of $p$. Flip the drift
($\mathrm{d}x = -s\,\mathrm{d}\tau + \sqrt 2\,\mathrm{d}W$) and the current is $-2 s\,p$: particles
are pushed away from the modes.
""")

code(r"""
with verify.wrong_variant("noise-sqrt1-not-stationary", "with noise dW instead of sqrt(2) dW, e^-U/Z is stationary"):
    verify.symbolic_zero("noise-sqrt1", fp_rhs(p1, s1, 1, [x]), "stationary")

with verify.wrong_variant("minus-score-not-stationary", "with drift -s instead of s, e^-U/Z is stationary"):
    verify.symbolic_zero("minus-score", fp_rhs(p2, [-c for c in s2], sqrt2, [x, y]), "stationary")

# what the sqrt(1) dynamics does preserve instead: p^2, normalised
verify.symbolic_zero("noise-sqrt1-keeps-p-squared", current(p1**2, s1, 1, [x]),
                     "dx = s dtau + dW has zero current at p^2, so it samples p^2 / (its integral), not p")
""")

md(r"""
The theorem is about the exact score. The library's mixtures compute their score in closed
form; as a check of that code, the current $J/p = s - \nabla\log p$ vanishes when $s$ is
`GaussianMixture.score` and $\nabla \log p$ is obtained by automatic differentiation of
`GaussianMixture.log_prob`, at random points of the plane.
""")

code(r"""
ring = ring_mixture()                        # 8 modes on a circle of radius 3, std 0.3
pts = (4 * torch.randn(500, 2, generator=g)).requires_grad_(True)
grad_log_p, = torch.autograd.grad(ring.log_prob(pts).sum(), pts)
J_over_p = ring.score(pts.detach()) - grad_log_p
scale = grad_log_p.abs().max().item()
verify.close("mixture-current-vanishes", J_over_p, torch.zeros_like(J_over_p),
             "the library's mixture score makes the Langevin current J/p = s - grad log p vanish",
             atol=1e-10 * scale, why="round-off in float64, relative to the largest score component")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## The unadjusted Langevin algorithm

To simulate, take Euler–Maruyama steps of size $h$ in Langevin time: over a step the drift
moves $x$ by $h\,s(x)$, and the Brownian increment $\sqrt 2\,(W_{\tau+h} - W_\tau)$ is Gaussian
with variance $2h$.

:::{prf:definition} Unadjusted Langevin algorithm (ULA)
:label: langevin-def-ula

With step size $h > 0$ and independent $z_k \sim \N(0, I)$,

$$
x_{k+1} = x_k + h\,s(x_k) + \sqrt{2h}\,z_k .
$$
:::

This is `ddpm_lib.samplers.langevin`. Some papers write the step as
$x + \tfrac{\epsilon}{2}\,s(x) + \sqrt{\epsilon}\,z$; that is the same chain with $\epsilon = 2h$
(see the notation page). Our first check runs one step of the library's sampler and compares it
with the formula, using the same random numbers.
""")

code(r"""
score_demo = ring.score
x_demo = 3 * torch.randn(7, 2, generator=g)
h_demo = 0.03
x_lib = langevin(score_demo, x_demo, h_demo, 1, generator=torch.Generator().manual_seed(11))
z_demo = torch.randn(x_demo.shape, generator=torch.Generator().manual_seed(11))
verify.close("ula-step-matches-library", x_lib, x_demo + h_demo * score_demo(x_demo) + math.sqrt(2 * h_demo) * z_demo,
             "samplers.langevin takes the step x + h s(x) + sqrt(2h) z", atol=1e-12,
             why="the same arithmetic in float64, possibly in another order")
""")

md(r"""
The chain is not exact: for a fixed $h$ its stationary law differs from $p$. A Gaussian
target lets us compute the error in closed form. For $p = \N(0, \sigma^2)$ the score is
$s(x) = -x/\sigma^2$, so one step is

$$
x_{k+1} = \Bigl(1 - \frac{h}{\sigma^2}\Bigr)\,x_k + \sqrt{2h}\,z_k ,
$$

an autoregressive AR(1) process. If the chain is stationary with variance $v$, then $x_k$ and
$z_k$ are independent and $v = (1 - h/\sigma^2)^2\,v + 2h$.

:::{prf:theorem} Stationary variance of ULA for a Gaussian
:label: langevin-thm-ula-variance

For $p = \N(0, \sigma^2)$ and $0 < h < 2\sigma^2$, the chain converges to $\N(0, v_h)$ with

$$
v_h = \frac{2\sigma^4}{2\sigma^2 - h} = \frac{\sigma^2}{1 - h/(2\sigma^2)}
= \sigma^2\Bigl(1 + \frac{h}{2\sigma^2} + O(h^2)\Bigr).
$$

For $h \ge 2\sigma^2$ the chain diverges.
:::

:::{prf:proof}
The factor $\rho = 1 - h/\sigma^2$ satisfies $|\rho| < 1$ exactly when $0 < h < 2\sigma^2$. Then
$x_k = \rho^k x_0 + \sqrt{2h}\sum_{j<k} \rho^{k-1-j} z_j$ is Gaussian with mean $\rho^k x_0 \to 0$
and variance $\rho^{2k}\operatorname{Var}x_0 + 2h\,(1 - \rho^{2k})/(1 - \rho^2) \to 2h/(1-\rho^2)$,
which is the solution of $v = \rho^2 v + 2h$ and simplifies to $v_h$. For $|\rho| \ge 1$ the noise
variance $2h \sum_j \rho^{2j}$ grows without bound.
:::

The variance is always too large, by a relative error $h/(2\sigma^2)$ to first order. Compare
with the exact dynamics over the same time $h$: it shrinks the variance by $e^{-2h/\sigma^2}$ and
adds $\sigma^2(1 - e^{-2h/\sigma^2}) = 2h - 2h^2/\sigma^2 + \dots$ of noise, while the Euler step
shrinks it only by $\rho^2 = 1 - 2h/\sigma^2 + h^2/\sigma^4$ and adds the full $2h$; both
second-order discrepancies push the variance up. SymPy derives the fixed point from the step
itself, its expansion, and the stability interval.
""")

code(r"""
h, sigma, v = sp.symbols("h sigma v", positive=True)
z = sp.symbols("z", real=True)
step = x + h * (-x / sigma**2) + sp.sqrt(2 * h) * z          # one ULA step for N(0, sigma^2)
rho, noise_scale = sp.diff(step, x), sp.diff(step, z)         # x_{k+1} = rho x_k + noise_scale z_k
v_h = sp.solve(sp.Eq(v, rho**2 * v + noise_scale**2), v)[0]
verify.symbolic_equal("ula-gaussian-variance", v_h, 2 * sigma**4 / (2 * sigma**2 - h),
                      "the stationary variance of ULA for N(0, sigma^2) is 2 sigma^4 / (2 sigma^2 - h)")
verify.symbolic_equal("ula-gaussian-variance-sigma1", v_h.subs(sigma, 1), 2 / (2 - h),
                      "for sigma = 1 the stationary variance is 2 / (2 - h)")
verify.symbolic_zero("ula-bias-first-order", sp.series(v_h / sigma**2, h, 0, 2).removeO() - (1 + h / (2 * sigma**2)),
                     "the relative variance error is h / (2 sigma^2) + O(h^2)")
exact_shrink, exact_noise = sp.exp(-2 * h / sigma**2), sigma**2 * (1 - sp.exp(-2 * h / sigma**2))  # exact step over h
verify.symbolic_equal("euler-vs-exact-second-order",
                      sp.Matrix([sp.series(exact_shrink - rho**2, h, 0, 3).removeO(),
                                 sp.series(noise_scale**2 - exact_noise, h, 0, 3).removeO()]),
                      sp.Matrix([h**2 / sigma**4, 2 * h**2 / sigma**2]),
                      "per step, the Euler chain shrinks the variance h^2/sigma^4 less and adds 2h^2/sigma^2 more noise than the exact dynamics")
u = sp.symbols("u", real=True)                               # u = h / sigma^2
stable = sp.solve_univariate_inequality(sp.Abs(rho.subs(h, u * sigma**2)) < 1, u, relational=False)
verify.holds("ula-stability-interval", stable == sp.Interval.open(0, 2),
             "the ULA chain for N(0, sigma^2) contracts exactly when 0 < h < 2 sigma^2", detail=f"got {stable}")
""")

md(r"""
Now the simulation. For $\sigma = 1$ we run $20\,000$ independent chains from $x_0 = 0$ with the
library's sampler for several step sizes, $400$ steps each, so that $\rho^{2k} < 10^{-17}$. The
end points are then independent draws from $\N(0, v_h)$, so the mean of $x^2$ estimates $v_h$
with standard error $v_h\sqrt{2/n}$.
""")

code(r"""
n_chains = 20_000
step_sizes = [0.05, 0.25, 0.5, 1.0, 1.5]
v_sim, v_se = [], []
for hh in step_sizes:
    xs = langevin(lambda q: -q, torch.zeros(n_chains, 1), hh, 400, generator=g)   # |rho|^800 < 1e-17 for these h
    est = (xs**2).mean().item()
    v_sim.append(est)
    v_se.append(est * math.sqrt(2 / n_chains))
v_theory = [2 / (2 - hh) for hh in step_sizes]
for hh, a, b in zip(step_sizes, v_sim, v_theory):
    print(f"h = {hh:<5}  simulated variance {a:.3g}   theory 2/(2-h) = {b:.3g}")
verify.within_standard_errors("ula-variance-simulated", v_sim, v_theory, v_se,
                              "the simulated stationary variance of ULA for N(0, 1) is 2/(2 - h)")
with verify.wrong_variant("ula-unbiased", "ULA samples N(0, 1) exactly, whatever h"):
    verify.within_standard_errors("ula-unbiased", v_sim, [1.0] * len(step_sizes), v_se, "variance 1")
""")

code(r"""
x_unstable = langevin(lambda q: -q, torch.randn(1000, 1, generator=g), 2.2, 150, generator=g)
verify.holds("ula-diverges-beyond-2", x_unstable.abs().max() > 1e6,
             "with h = 2.2 > 2 sigma^2 the chain for N(0, 1) blows up (|x| > 10^6 after 150 steps; |rho|^150 = 1.2^150 ~ 10^12)")
""")

code(r"""
hs = np.linspace(0.005, 1.8, 300)
fig, ax = plt.subplots(figsize=(6.4, 3.6))
ax.plot(hs, 2 / (2 - hs), color="C0", label=r"theory $v_h = 2/(2-h)$")
ax.errorbar(step_sizes, v_sim, yerr=2 * np.array(v_se), fmt="o", color="C3", ms=5, capsize=3,
            label=r"simulated ($\pm 2$ s.e.)")
ax.axhline(1.0, color="0.4", ls="--", lw=1, label=r"target $\sigma^2 = 1$")
ax.axvline(2.0, color="k", ls=":", lw=1)
ax.text(1.93, 6.5, "stability limit $h = 2\\sigma^2$", rotation=90, ha="right", va="top", fontsize=9)
ax.set_xlim(0, 2.05)
ax.set_ylim(0, 10)
ax.set_xlabel("step size $h$")
ax.set_ylabel("stationary variance")
ax.legend(loc="upper left", fontsize=9)
ax.set_title("ULA for $\\mathcal{N}(0, 1)$: the bias grows with $h$")
plt.show()
""")

md(r"""
**Figure 2.** The stationary variance of the unadjusted Langevin chain for $\N(0, 1)$ as a function
of the step size: the exact formula $2/(2-h)$ (line) and $20\,000$ simulated chains per step size
(dots, error bars $\pm 2$ standard errors). At $h = 0.05$ the excess is 2.6 %, at $h = 1$ the
variance is doubled, and it diverges at the stability limit $h = 2\sigma^2$.

The bias vanishes as $h \to 0$, at the price of more steps. It can also be removed at fixed $h$
by a Metropolis–Hastings accept/reject test on each proposal (the Metropolis-adjusted Langevin
algorithm, MALA), whose convergence is studied in {cite}`roberts1996exponential`; diffusion
samplers use the plain, unadjusted chain with small steps.
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Sampling a 2-D mixture with the exact score

Now a target with several modes: eight Gaussians of standard deviation $0.3$ on a circle of
radius 3 (`ring_mixture`). We start $2000$ particles from a broad Gaussian $\N(0, 2^2 I)$ and run
ULA with the exact score and $h = 0.005$. Near a mode the score is close to that of a single
Gaussian with $\sigma^2 = 0.09$, so $h/\sigma^2 \approx 0.06$: a particle relaxes within a few dozen
steps.
""")

code(r"""
n_particles = 2000
x_start = 2 * torch.randn(n_particles, 2, generator=g)
h_ring = 0.005
path = langevin(ring.score, x_start, h_ring, 1000, generator=g, return_path=True)
x_ring = path[-1]
""")

code(r"""
target_sample = ring.sample(n_particles, generator=g)
shown = [0, 10, 40, 1000]
fig, axes = plt.subplots(1, len(shown), figsize=(11, 3.0), sharex=True, sharey=True)
for ax, k in zip(axes, shown):
    ax.scatter(target_sample[:, 0], target_sample[:, 1], s=2, color="0.8", label="target sample")
    ax.scatter(path[k][:, 0], path[k][:, 1], s=2, color="C0", alpha=0.6, label="Langevin particles")
    ax.set_title(f"step {k}  ($\\tau$ = {k * h_ring:g})")
    ax.set_xlim(-6, 6)
    ax.set_ylim(-6, 6)
    ax.set_aspect("equal")
axes[0].legend(loc="lower left", fontsize=7, markerscale=4)
plt.tight_layout()
plt.show()
""")

md(r"""
**Figure 3.** $2000$ particles started from $\N(0, 4I)$ and moved by ULA with the exact score of the
eight-mode ring ($h = 0.005$), after 0, 10, 40 and 1000 steps, over an exact sample of the target
(grey). The drift gathers the particles onto the ring within a few dozen steps; afterwards the
noise keeps them spread over each mode.

How close is the final cloud to the target? We measure the sliced Wasserstein distance (SWD)
to an independent exact sample, and compare it with the **noise floor**: the SWD between two
independent exact samples of the same size, which is what a perfect sampler would score.
""")

code(r"""
floor_mean, floor_std = noise_floor(ring.sample, n_particles, repeats=20, generator=torch.Generator().manual_seed(1))
swd_small = sliced_wasserstein(x_ring, target_sample)
print(f"noise floor at n = {n_particles}: {floor_mean:.3g} +- {floor_std:.3g};  SWD of ULA with h = {h_ring}: {swd_small:.3g}")
verify.less_than("ring-swd-at-floor", swd_small, floor_mean + 3 * floor_std,
                 "ULA with the exact score and h = 0.005 reaches the noise floor of the SWD",
                 why="a sampler indistinguishable from the target scores below the floor's mean + 3 std (20 repeats)")
""")

md(r"""
At $n = 2000$ the floor is dominated by how the particles happen to split among the eight
modes, and the small bias of $h = 0.005$ is invisible to it. The bias is still there, and the
Gaussian formula predicts it: within a mode the score is nearly that of $\N(\mu_k, \sigma^2 I)$,
so the spread of each mode should be $v_h = \sigma^2/(1 - h/(2\sigma^2))$ per coordinate. We
assign every particle to its most likely mode and measure the mean squared deviation from the
mode's centre, for our small step and for a larger one, $h = 0.06$ ($h/\sigma^2 = 2/3$). Each
coordinate of each particle gives one independent deviation, so the standard error is
$v_h/\sqrt{n}$.
""")

code(r"""
def within_mode_variance(xs, mixture):
    k = mixture.responsibilities(xs).argmax(dim=1)
    return ((xs - mixture.means[k])**2).mean().item()


sigma2_ring = 0.3**2
h_big = 0.06
x_ring_big = langevin(ring.score, x_start, h_big, 400, generator=g)
spreads = [within_mode_variance(x_ring, ring), within_mode_variance(x_ring_big, ring)]
predicted = [sigma2_ring / (1 - hh / (2 * sigma2_ring)) for hh in (h_ring, h_big)]
ses = [p / math.sqrt(n_particles) for p in predicted]
for hh, a, b in zip((h_ring, h_big), spreads, predicted):
    print(f"h = {hh}: within-mode variance {a:.3g}, predicted v_h = {b:.3g} (target sigma^2 = {sigma2_ring:.3g})")
verify.within_standard_errors("ring-mode-variance-bias", spreads, predicted, ses,
                              "the within-mode variance of ULA on the ring is the Gaussian v_h = sigma^2/(1 - h/(2 sigma^2))")
with verify.wrong_variant("ring-mode-variance-unbiased", "the within-mode variance is the target's sigma^2 = 0.09"):
    verify.within_standard_errors("ring-unbiased", spreads, [sigma2_ring] * 2, ses, "no bias")
""")

code(r"""
h_huge = 0.15
x_ring_huge = langevin(ring.score, x_start, h_huge, 200, generator=g)
swd_huge = sliced_wasserstein(x_ring_huge, target_sample)
print(f"SWD of ULA with h = {h_huge}: {swd_huge:.3g}  (noise floor {floor_mean:.3g} +- {floor_std:.3g})")
verify.less_than("ring-swd-large-step", floor_mean + 5 * floor_std, swd_huge,
                 "with h = 0.15 (h/sigma^2 = 1.7, variance inflated about 6 times) the bias is plain in the SWD",
                 why="5 floor standard deviations above the floor's mean")
""")

md(r"""
With $h = 0.15$ the single-Gaussian formula predicts a six-fold inflation of each mode's
variance ($2/(2 - 1.67)$); the modes smear into a blurred ring, and the SWD is far above the floor. The lesson for samplers: the step
size must be small compared with the smallest length scale of the target, $h \ll \sigma^2$.
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Why Langevin dynamics alone is not enough

The theorem says that $p$ is stationary, and for nice potentials Langevin dynamics converges
to it from any start. But the theorem says nothing about *how long* that takes, and it assumes
the exact score everywhere. Both assumptions fail in practice.

### Trapped in a mode

`separated_mixture` has two modes of standard deviation $0.5$ at $(-4, 0)$ with weight $0.3$ and
at $(4, 0)$ with weight $0.7$. We start $2000$ particles in the right-hand mode and run ULA with
the exact score for $5000$ steps of $h = 0.01$, a Langevin time $\tau = 50$ — two hundred times
the relaxation time $\sigma^2 = 0.25$ of a single mode. We record the fraction of particles with
$x < 0$, the left-hand mode's share, along the way.
""")

code(r"""
sep = separated_mixture()
h_sep, chunk, n_chunks = 0.01, 250, 20
x_sep = torch.tensor([4.0, 0.0]) + 0.5 * torch.randn(n_particles, 2, generator=g)
left_fraction = [(x_sep[:, 0] < 0).double().mean().item()]
for _ in range(n_chunks):
    x_sep = langevin(sep.score, x_sep, h_sep, chunk, generator=g)
    left_fraction.append((x_sep[:, 0] < 0).double().mean().item())
weights_from_right = sep.responsibilities(x_sep).mean(dim=0)
w_left = weights_from_right[0].item()
print(f"after tau = {h_sep * chunk * n_chunks:g}: fraction with x < 0 = {left_fraction[-1]:.3g}, "
      f"mean responsibility of the left mode {'< 1e-30' if w_left < 1e-30 else f'= {w_left:.3g}'} (true weight 0.3)")
verify.holds("trapped-in-right-mode", max(left_fraction) == 0.0,
             "started in the right mode, no particle reaches x < 0 during tau = 50")
verify.less_than("trapped-left-weight", weights_from_right[0].item(), 0.01,
                 "the left mode's weight estimated from the particles stays about 0, not 0.3",
                 why="a sampler that had mixed would give 0.3, about 28 binomial standard errors above 0.01")
""")

md(r"""
The reason is the barrier between the modes. Along the line joining them, the potential
$U = -\log p$ rises from the bottom of the right-hand mode to a saddle near $x = 0$ and falls
again. The **Arrhenius law** (made precise for diffusions by Kramers) says that the mean time to
escape over a barrier of height $\Delta U$ grows like $e^{\Delta U}$, up to a prefactor set by
the curvatures at the minimum and the saddle: the particle has to be pushed uphill by a rare
conspiracy of noise increments, and the probability of such a conspiracy is exponentially
small in the height. We compute the barrier from the library's `log_prob`.
""")

code(r"""
line = torch.stack([torch.linspace(-4, 4, 4001), torch.zeros(4001)], dim=1)
U_line = -sep.log_prob(line)
barrier_right = (U_line.max() - U_line[-1]).item()
barrier_left = (U_line.max() - U_line[0]).item()
print(f"saddle at x = {line[U_line.argmax(), 0].item():.2f}; barrier from the right mode {barrier_right:.3g}, "
      f"from the left mode {barrier_left:.3g}")
print(f"Arrhenius factor e^dU = {math.exp(barrier_right):.3g}, against a run of tau = 50")
verify.close("barrier-difference-is-log-weights", barrier_right - barrier_left, math.log(0.7 / 0.3),
             "the two barriers differ by log(0.7 / 0.3): the mode weights set the depths of the wells",
             atol=1e-6, why="equal covariances; the other mode's density at a well bottom is below e^-100")
verify.less_than("arrhenius-hopeless", 50 * math.exp(-barrier_right), 1e-10,
                 "the run length times e^-dU, the order of the expected number of escapes, is negligible",
                 why="Arrhenius: escape rate ~ e^-dU up to a prefactor of order one here")
""")

md(r"""
A barrier of about $32$ means an escape time of order $e^{32} \approx 10^{14}$ in Langevin time:
no practical run will see one. Two remarks. The barriers seen from the two modes differ by
$\log(0.7/0.3) \approx 0.85$ — the ratio of the weights is encoded in the barriers, and a chain
that *could* hop would spend $70\%$ of its time on the right. And starting from a broad
distribution does not help: then each particle falls into whichever basin it starts in, and the
weights come out as the start's split, not as $0.3/0.7$. We start from $\N(0, I)$, symmetric
about $x = 0$.
""")

code(r"""
x_noise_start = torch.randn(n_particles, 2, generator=g)
x_plain = langevin(sep.score, x_noise_start, h_sep, 1000, generator=g)
right_plain = (x_plain[:, 0] > 0).double().mean().item()
se_weight = math.sqrt(0.7 * 0.3 / n_particles)
print(f"plain Langevin from N(0, I): fraction in the right mode {right_plain:.3g} (true 0.7)")
verify.close("plain-from-noise-splits-evenly", right_plain, 0.5, "from N(0, I) the right mode gets about half "
             "the particles, the start's split", atol=0.05,
             why="the basins meet near x = -0.03; 0.05 is over four binomial standard errors at n = 2000")
with verify.wrong_variant("plain-from-noise-right-weights", "plain Langevin from N(0, I) finds the weights 0.3 / 0.7"):
    verify.within_standard_errors("plain-weights", right_plain, 0.7, se_weight, "weight 0.7")
""")

md(r"""
### Misled by an inaccurate score

In a diffusion model the score is a neural network trained on samples. Where there are no
samples it has nothing to learn from, and its output there is an extrapolation. We emulate
such a model on the ring: the exact score inside the disc $|x| < R = 4.5$, which holds
essentially all of the data, and outside it a wrong field — a push of constant strength $5$
directly away from the origin. We start particles from $\N(0, 4^2 I)$, so that a fraction
$P(|x_0| > R) = e^{-R^2/(2\cdot 16)} \approx 0.53$ of them starts outside the disc, and compare the
exact and the emulated score.
""")

code(r"""
R_trust, push = 4.5, 5.0


def emulated_model_score(xs):
    r = xs.norm(dim=-1, keepdim=True)
    return torch.where(r < R_trust, ring.score(xs), push * xs / r)


x_far = 4 * torch.randn(n_particles, 2, generator=g)
x_exact_far = langevin(ring.score, x_far, h_ring, 1000, generator=g)
x_model_far = langevin(emulated_model_score, x_far, h_ring, 1000, generator=g)
lost_exact = (x_exact_far.norm(dim=1) > R_trust).double().mean().item()
lost_model = (x_model_far.norm(dim=1) > R_trust).double().mean().item()
p_outside = math.exp(-R_trust**2 / (2 * 4**2))
print(f"fraction ending outside the data region: exact score {lost_exact:.3g}, emulated model {lost_model:.3g}; "
      f"P(|x0| > R) = {p_outside:.3g}")
verify.less_than("exact-score-recovers-far-starts", lost_exact, 0.01,
                 "with the exact score, particles started far away all reach the ring",
                 why="the exact score points back to the data everywhere")
verify.close("model-score-loses-far-starts", lost_model, p_outside,
             "with the emulated model, the particles that start outside the trusted disc are lost", atol=0.05,
             why="P(|x0| > R) = 0.53 up to particles within a few noise steps of the boundary (binomial s.e. 0.011)")
""")

code(r"""
fig, axes = plt.subplots(1, 3, figsize=(12, 3.9))
circle = np.linspace(0, 2 * np.pi, 200)
for ax, xs, title, color, lim in zip(axes, (x_exact_far, x_model_far), ("exact score", "emulated model score"),
                                     ("C0", "C3"), (15, 45)):
    ax.scatter(x_far[:, 0], x_far[:, 1], s=2, color="0.75", label="start")
    ax.scatter(xs[:, 0], xs[:, 1], s=2, color=color, label="after 1000 steps")
    ax.plot(R_trust * np.cos(circle), R_trust * np.sin(circle), "k--", lw=1, label=f"|x| = R = {R_trust}")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_title(title)
axes[0].legend(loc="lower left", fontsize=7, markerscale=4)
bins = np.geomspace(1, 60, 60)
axes[2].hist(x_far.norm(dim=1).numpy(), bins=bins, color="0.75", label="start")
axes[2].hist(x_exact_far.norm(dim=1).numpy(), bins=bins, histtype="step", lw=1.5, color="C0", label="exact score")
axes[2].hist(x_model_far.norm(dim=1).numpy(), bins=bins, histtype="step", lw=1.5, color="C3", label="emulated model")
axes[2].axvline(R_trust, color="k", ls="--", lw=1)
axes[2].set_xscale("log")
axes[2].set_xlabel("distance from the origin $|x|$")
axes[2].set_ylabel("particles")
axes[2].set_title("final distance from the origin")
axes[2].legend(fontsize=8)
plt.tight_layout()
plt.show()
""")

md(r"""
**Figure 4.** Particles started from $\N(0, 16 I)$ (grey) after 1000 ULA steps ($h = 0.005$).
Left: with the exact score every particle reaches the ring. Middle (note the wider view): with a
score that is exact only inside the dashed circle, the particles starting outside follow the
wrong field away from the data, and only those starting inside find the ring. Right: the final
distances from the origin (log scale); the exact score puts every particle at radius about 3,
the emulated model only about half of them.

### The way out: start from noise and anneal

Both failures have the same cure, and it is the idea behind diffusion models
{cite}`song2019generative,ho2020denoising,song2021scorebased`. Instead of one distribution, use the family $p_t$
obtained by running the forward OU process for a time $t$ (the chapter on the forward process
derives it). For large $t$, $p_t$ is close to $\N(0, I)$: it has one mode, so Langevin dynamics
mixes quickly, and noise drawn from $\N(0, I)$ starts exactly where $p_t$ lives — and where a
network trained on noisy samples is accurate. As $t$ decreases, the modes of $p_t$ separate
slowly, and the particles, already spread in the right proportions, are carried along.

Here is a first, crude version, in the spirit of annealed Langevin dynamics {cite}`song2019generative`, on the
separated mixture: 30 levels $t$ from $6$ down to $10^{-3}$, 100 ULA steps on each with the exact
score of $p_t$ (`score_fn`), and a step size proportional to the variance of $p_t$'s components,
$h_t = 0.05\,(0.25\,e^{-t} + 1 - e^{-t})$. The start is the same kind of $\N(0, I)$ noise that
plain Langevin split evenly.
""")

code(r"""
score_t = sep.score_fn()
levels = np.geomspace(6.0, 1e-3, 30)
x_anneal = x_noise_start.clone()
for t_level in levels:
    var_t = 0.25 * math.exp(-t_level) + 1 - math.exp(-t_level)
    x_anneal = langevin(lambda q, tl=float(t_level): score_t(q, tl), x_anneal, 0.05 * var_t, 100, generator=g)
right_anneal = (x_anneal[:, 0] > 0).double().mean().item()
print(f"annealed Langevin from N(0, I): fraction in the right mode {right_anneal:.3g} (true 0.7)")
verify.within_standard_errors("annealed-weights", right_anneal, 0.7, se_weight,
                              "annealed Langevin from N(0, I) recovers the mode weights 0.3 / 0.7")
""")

code(r"""
labels = ["true", "plain, started\nin the right mode", "plain, from\nN(0, I)", "annealed, from\nN(0, I)"]
right_shares = [0.7, 1 - weights_from_right[0].item(), right_plain, right_anneal]
fig, ax = plt.subplots(figsize=(6.4, 3.4))
ax.bar(labels, right_shares, color=["0.6", "C3", "C3", "C0"], width=0.6)
ax.bar(labels, [1 - r for r in right_shares], bottom=right_shares, color="white", edgecolor="0.6", width=0.6)
ax.errorbar(labels[1:], right_shares[1:], yerr=2 * se_weight, fmt="none", color="k", capsize=4)
ax.axhline(0.7, color="k", ls=":", lw=1)
ax.set_ylim(0, 1)
ax.set_ylabel("share of the right mode")
ax.set_title("Mode weights of the separated mixture")
plt.tight_layout()
plt.show()
""")

md(r"""
**Figure 5.** The share of the right-hand mode (weight $0.7$, dotted line) found by each sampler,
with $\pm 2$ binomial standard errors. Plain Langevin keeps whatever split it starts with: all
particles when started there, about half from symmetric noise. Annealing through $p_t$ from
noise recovers $0.7$.

Annealed Langevin still needs many steps per level and a hand-tuned step size. The reverse-time
SDE of the later chapters does the annealing continuously: it moves $t$ down *while* it moves
the particles, with a drift that contains the score of $p_t$ and exactly compensates for the
change of $p_t$ with $t$. Langevin dynamics is its building block — the reverse-SDE chapter
splits one Langevin step into a forward and a backward half.
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Exercises

````{exercise} The chain for a Gaussian with a mean
:label: langevin-ex-gaussian-chain

Let $p = \N(\mu, \sigma^2)$ in one dimension, so $s(x) = -(x - \mu)/\sigma^2$. For the ULA chain
$x_{k+1} = x_k + h\,s(x_k) + \sqrt{2h}\,z_k$ with $0 < h < 2\sigma^2$, find the stationary mean and
variance. Is the mean biased? Which step size makes the relative variance error exactly $1\%$?
````

````{solution} langevin-ex-gaussian-chain
:class: dropdown

The step is $x_{k+1} = \rho\,x_k + (h/\sigma^2)\,\mu + \sqrt{2h}\,z_k$ with
$\rho = 1 - h/\sigma^2$. At stationarity the mean $m$ satisfies $m = \rho\,m + (h/\sigma^2)\mu$, so
$m = \mu$: **the mean is exact** for every stable $h$. The variance satisfies
$v = \rho^2 v + 2h$ (the shift by a constant does not change it), so as for $\mu = 0$,

$$
v_h = \frac{2\sigma^4}{2\sigma^2 - h}, \qquad \frac{v_h}{\sigma^2} - 1 = \frac{h}{2\sigma^2 - h}.
$$

Setting $h/(2\sigma^2 - h) = 0.01$ gives $h = 2\sigma^2/101 \approx 0.0198\,\sigma^2$. Only the
spread is wrong, and only through the ratio $h/\sigma^2$.
````
""")

code(r"""
mu = sp.symbols("mu", real=True)
m_stat = sp.symbols("m", real=True)
step_mu = x + h * (-(x - mu) / sigma**2) + sp.sqrt(2 * h) * z
mean_fix = sp.solve(sp.Eq(m_stat, step_mu.subs({x: m_stat, z: 0})), m_stat)[0]
var_fix = sp.solve(sp.Eq(v, sp.diff(step_mu, x)**2 * v + sp.diff(step_mu, z)**2), v)[0]
h_one_percent = sp.solve(sp.Eq(var_fix / sigma**2 - 1, sp.Rational(1, 100)), h)[0]
verify.symbolic_equal("exercise-mean-unbiased", mean_fix, mu, "the stationary mean of ULA for N(mu, sigma^2) is mu")
verify.symbolic_equal("exercise-variance-with-mean", var_fix, 2 * sigma**4 / (2 * sigma**2 - h),
                      "the stationary variance does not depend on mu")
verify.symbolic_equal("exercise-one-percent", h_one_percent, 2 * sigma**2 / 101,
                      "a 1% variance error needs h = 2 sigma^2 / 101")
""")

md(r"""
````{exercise} One Langevin step
:label: langevin-step

Write `langevin_step(x, score, h, z)` that returns the next state of the unadjusted Langevin
chain in this book's notation: `x` is a tensor of states, `score` a function returning
$s(x)$ with `x`'s shape, `h` the step size and `z` a standard Gaussian tensor of `x`'s shape.
Do not change `x` or `z` in place. Put your answer in the cell tagged `solution` (it holds our
reference answer, hidden in the rendered book) and run the cell after it:
`check("langevin-step", langevin_step)` tests it and names the usual mistakes (noise $\sqrt h$
instead of $\sqrt{2h}$, a drift $h/2$ from the other convention, a sign error, a missing term).
````

````{solution} langevin-step
:class: dropdown

One Euler–Maruyama step of $\mathrm{d}x = s\,\mathrm{d}\tau + \sqrt 2\,\mathrm{d}W$ over a time $h$:
the drift contributes $h\,s(x)$ and the Brownian increment has variance $2h$, so the step is
`x + h * score(x) + math.sqrt(2 * h) * z`. The form $x + \tfrac{h}{2}s(x) + \sqrt h\,z$ found in
some papers is a step of size $h/2$ in our notation: correct, but not what is asked.
````
""")

code(r"""
def langevin_step(x, score, h, z):
    # x + h s(x) + sqrt(2h) z
    return x + h * score(x) + math.sqrt(2 * h) * z
""", tags=["solution", "hide-input"])

code(r"""
feedback = check("langevin-step", langevin_step)
print(feedback)
assert feedback.passed
""")

md(r"""
````{exercise} Stiffness: one step size for two scales
:label: langevin-ex-stiff

Let $p = \N(0, \operatorname{diag}(\sigma_1^2, \sigma_2^2))$ with $\sigma_1 = 1$ and $\sigma_2 = 0.1$.

1. Show that ULA runs the two coordinates as independent AR(1) chains, and find the largest
   stable step size.
2. Find the largest $h$ for which the relative variance error is at most $5\%$ in *both*
   coordinates.
3. With that $h$, the wide coordinate forgets its start by a factor $1 - h/\sigma_1^2$ per step.
   Roughly how many steps does it need to forget a start at distance $10$ down to $0.01$? How
   does that number scale with the ratio $\sigma_1^2/\sigma_2^2$?
````

````{solution} langevin-ex-stiff
:class: dropdown

1. The score $s(x) = (-x_1/\sigma_1^2, -x_2/\sigma_2^2)$ acts on each coordinate separately and the
   noise components are independent, so each coordinate is the chain of
   {prf:ref}`langevin-thm-ula-variance` with its own $\sigma_i$. Both are stable iff
   $h < 2\min_i \sigma_i^2 = 0.02$.
2. The relative error in coordinate $i$ is $h/(2\sigma_i^2 - h)$; it is at most $0.05$ iff
   $h \le 2\sigma_i^2 \cdot 0.05/1.05 = 2\sigma_i^2/21$. The narrow coordinate decides:
   $h = 2\cdot 0.01/21 \approx 9.5\times 10^{-4}$.
3. The mean of $x_1$ decays like $(1 - h)^k \approx e^{-hk}$, so reducing $10$ to $0.01$ needs
   $k \approx \ln(1000)/h \approx 7300$ steps. Since $h \propto \sigma_2^2$, the number of steps grows
   like the **condition number** $\sigma_1^2/\sigma_2^2$. Diffusion samplers face the same problem
   at small noise levels, where the fine structure of the data sets the smallest scale; one
   reason annealed samplers shrink the step size with the noise level.
````
""")

code(r"""
s1_, s2_ = sp.Rational(1), sp.Rational(1, 10)
rel_err = lambda hh, sg: (2 * sg**4 / (2 * sg**2 - hh)) / sg**2 - 1
h_max = min(sp.solve(sp.Eq(rel_err(h, sg), sp.Rational(5, 100)), h)[0] for sg in (s1_, s2_))
k_needed = math.log(10 / 0.01) / -math.log(1 - float(h_max))
print(f"h = {float(h_max):.3g}, steps to forget the wide coordinate's start: {k_needed:.3g}")
verify.symbolic_equal("exercise-stiff-step", h_max, sp.Rational(2, 21) * s2_**2,
                      "a 5% bound on the variance error in both coordinates allows h = 2 sigma_2^2 / 21")
verify.close("exercise-stiff-steps", k_needed, math.log(1000) * 21 / 2 / float(s2_)**2,
             "about ln(1000) sigma_1^2 / h steps are needed to forget the start", rtol=1e-3,
             why="(1 - h)^k versus e^{-hk}: relative difference of order h = 1e-3")
""")

code(r"""
_ = verify.summary(expected=N_CHECKS)
""")


RUNTIME_S = 15     # measured: about 8 s of CPU time (imports included) on one thread; rounded up
N_CHECKS = 42


if __name__ == "__main__":
    main("langevin", {"RUNTIME": str(RUNTIME_S), "N_CHECKS": str(N_CHECKS)})
