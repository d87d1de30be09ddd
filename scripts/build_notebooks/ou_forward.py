"""Build book/ou_forward.ipynb (unexecuted) from the cells below.

    python scripts/build_notebooks/ou_forward.py
    jupyter nbconvert --to notebook --execute --inplace book/ou_forward.ipynb

The cells live here as Python strings so that the chapter can be regenerated and diffed.
"""
from __future__ import annotations

from _nb import code, main, md


# ---------------------------------------------------------------------------------------
md(r"""
# The Ornstein–Uhlenbeck forward process

*Runs in about 20 s on a laptop CPU (one thread). No GPU is used.*

A diffusion model generates data by undoing a process that turns data into noise. Before
we can undo that process we have to know it well, and this chapter is about it: the
**forward process**. Its continuous-time version is the Ornstein–Uhlenbeck (OU) process
{cite}`uhlenbeck1930theory`;
the discrete chain of DDPM {cite}`ho2020denoising` is the same process observed on a grid
of times.

By the end of the chapter we will have

1. written the forward process as a stochastic differential equation and seen that it is
   Langevin dynamics for the standard Gaussian;
2. derived its exact transition law, so that $x_t$ can be sampled in one step from $x_0$;
3. shown that every starting distribution is carried to $\N(0, I)$, and watched it happen;
4. derived DDPM's closed form $x_i \mid x_0 \sim \N(\sqrt{\abar_i}\, x_0, (1 - \abar_i) I)$ and
   seen why the chain is called *variance preserving*;
5. matched the two clocks, $\abar_i \approx e^{-t_i}$ with $t_i = \beta_1 + \dots + \beta_i$,
   with an error bound that we check for the two standard schedules.

Every step of mathematics below is followed by a code cell that checks it, symbolically
with SymPy or by Monte Carlo with a stated tolerance. A passing check prints a line
starting with ✔; a failing one stops the notebook. The symbolic checks call the formula
functions of `ddpm_lib` itself, so an error in the library would stop this page too.
""")

code(r"""
%matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
import torch
from scipy import stats

from ddpm_lib import Schedule, cosine_schedule, linear_schedule, verify
from ddpm_lib import forward as F
from ddpm_lib.exercises import check
from ddpm_lib.notebook import setup

g = setup("The OU forward process")   # one thread, float64, fixed seeds; g is a seeded torch.Generator
""")

# ---------------------------------------------------------------------------------------
md(r"""
## The forward SDE

:::{prf:definition} The OU forward process
:label: ou-def-forward

The **forward process** is the solution of the stochastic differential equation

$$
\mathrm{d}x_t = -\tfrac12\, x_t \,\mathrm{d}t + \mathrm{d}W_t, \qquad x_0 \sim p_0, \qquad t \ge 0,
$$

where $x_t \in \R^d$, $W_t$ is a standard Brownian motion in $\R^d$ independent of $x_0$,
and $p_0$ is the data distribution. We write $p_t$ for the density of $x_t$. In the
notation $\mathrm{d}x = f(x)\,\mathrm{d}t + g\,\mathrm{d}W$ the drift is
$f(x) = -\tfrac12 x$ and the diffusion coefficient is $g = 1$.
:::

Two features make this process easy to study. The drift is linear, so Gaussians stay
Gaussian. And the drift acts on each coordinate separately while the coordinates of $W_t$
are independent, so **given $x_0$ the $d$ coordinates evolve independently**, each by the
same scalar equation. Everything below is therefore done for $d = 1$; the $d$-dimensional
statements follow coordinate by coordinate.

The drift has a meaning. Let $\varphi(x) = (2\pi)^{-1/2} e^{-x^2/2}$ be the standard normal
density. Its score is $\nabla \log \varphi(x) = -x$, so

$$
f(x) = -\tfrac12 x = \tfrac12 \nabla \log \varphi(x):
$$

the drift pulls every point up the log-density of $\N(0, 1)$, at half strength. The next
cell checks this with the library's `ou_drift`.
""")

code(r"""
x, x0 = sp.symbols("x x_0", real=True)
t, s = sp.symbols("t s", positive=True)
phi = sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)            # density of N(0, 1)
score_phi = sp.diff(sp.log(phi), x)                      # its score, -x

verify.symbolic_equal("drift-is-half-score", F.ou_drift(x), score_phi / 2,
                      "the OU drift -x/2 is half the score of N(0, 1)")
""")

md(r"""
### Langevin dynamics at half speed

Langevin dynamics for a density $\pi$ is the SDE
$\mathrm{d}x_\tau = \nabla \log \pi(x_\tau)\,\mathrm{d}\tau + \sqrt{2}\,\mathrm{d}W_\tau$,
which leaves $\pi$ invariant. The OU process is exactly this for $\pi = \varphi$, run on a
clock that ticks at half the rate.

:::{prf:proposition} The forward process is Langevin dynamics for $\N(0, I)$
:label: ou-prop-langevin

Let $y_\tau$ solve the Langevin equation for $\varphi$,
$\mathrm{d}y_\tau = \nabla \log \varphi(y_\tau)\,\mathrm{d}\tau + \sqrt{2}\,\mathrm{d}B_\tau = -y_\tau\,\mathrm{d}\tau + \sqrt{2}\,\mathrm{d}B_\tau$.
Then $x_t = y_{t/2}$ solves the OU equation of {prf:ref}`ou-def-forward`.
:::

:::{prf:proof}
Put $\tau = t/2$. The drift term becomes $-y\,\mathrm{d}\tau = -\tfrac12 x\,\mathrm{d}t$.
For the noise, $W_t := \sqrt{2}\, B_{t/2}$ is again a standard Brownian motion: it starts
at 0, is continuous, and has independent Gaussian increments with
$\operatorname{Var}(W_t - W_s) = 2 \cdot \tfrac{t-s}{2} = t - s$. Hence
$\sqrt{2}\,\mathrm{d}B_\tau = \mathrm{d}W_t$, and $x_t = y_{t/2}$ satisfies
$\mathrm{d}x_t = -\tfrac12 x_t\,\mathrm{d}t + \mathrm{d}W_t$.
:::

An equivalent way to say the same thing, which we can check symbolically, is through the
**generator** of each process, the operator that gives the expected rate of change of a
test function $h$: $\mathcal{L}h = f\,h' + \tfrac12 g^2 h''$. For Langevin dynamics it is
$\mathcal{L}_{\mathrm{Lan}} h = (\log\varphi)'\,h' + h''$, for the OU process
$\mathcal{L}_{\mathrm{OU}} h = -\tfrac12 x\,h' + \tfrac12 h''$, and halving the speed of the
clock halves the generator: $\mathcal{L}_{\mathrm{OU}} = \tfrac12 \mathcal{L}_{\mathrm{Lan}}$.
""")

code(r"""
h = sp.Function("h")
gen_ou = F.ou_drift(x) * sp.diff(h(x), x) + sp.Rational(1, 2) * F.ou_diffusion()**2 * sp.diff(h(x), x, 2)
gen_langevin = score_phi * sp.diff(h(x), x) + sp.diff(h(x), x, 2)

verify.symbolic_equal("ou-is-half-speed-langevin", gen_ou, gen_langevin / 2,
                      "the OU generator is half the generator of Langevin dynamics for N(0, 1), for every h")
""")

md(r"""
### The Fokker–Planck equation

The density $p_t$ of a solution of $\mathrm{d}x = f(x)\,\mathrm{d}t + g\,\mathrm{d}W$ obeys the
**Fokker–Planck equation**

$$
\frac{\partial p}{\partial t} = -\frac{\partial}{\partial x}\bigl(f\,p\bigr) + \frac{g^2}{2}\,\frac{\partial^2 p}{\partial x^2}
= -\frac{\partial J}{\partial x}, \qquad J = f\,p - \frac{g^2}{2}\frac{\partial p}{\partial x}.
$$

The second form reads it as a conservation law: probability flows with the **current** $J$,
made of transport by the drift and spreading by the noise. We write its right-hand side
once, in terms of the library's drift and diffusion coefficient, and use it in all the
checks that follow.
""")

code(r"""
def fp_current(p, drift=F.ou_drift):
    # probability current J = f p - (g^2/2) dp/dx
    return drift(x) * p - sp.Rational(1, 2) * F.ou_diffusion()**2 * sp.diff(p, x)


def fp_rhs(p, drift=F.ou_drift):
    # right-hand side of the Fokker-Planck equation, -dJ/dx
    return -sp.diff(fp_current(p, drift), x)


def gaussian_pdf(x, mean, var):
    return sp.exp(-(x - mean)**2 / (2 * var)) / sp.sqrt(2 * sp.pi * var)
""")

# ---------------------------------------------------------------------------------------
md(r"""
## The exact transition

:::{prf:theorem} Transition law of the OU process
:label: ou-thm-transition

For every $t \ge 0$,

$$
x_t \mid x_0 \;\sim\; \N\!\bigl(e^{-t/2} x_0,\; (1 - e^{-t})\, I\bigr),
\qquad\text{equivalently}\qquad
x_t = e^{-t/2} x_0 + \sqrt{1 - e^{-t}}\;\varepsilon,\quad \varepsilon \sim \N(0, I) \text{ independent of } x_0 .
$$
:::

:::{prf:proof}
Multiply by the integrating factor $e^{t/2}$. By Itô's formula (the factor is deterministic,
so no second-order term appears)
$\mathrm{d}\bigl(e^{t/2} x_t\bigr) = e^{t/2}\bigl(\mathrm{d}x_t + \tfrac12 x_t\,\mathrm{d}t\bigr) = e^{t/2}\,\mathrm{d}W_t$.
Integrating from $0$ to $t$ and multiplying by $e^{-t/2}$,

$$
x_t = e^{-t/2} x_0 + \int_0^t e^{-(t-s)/2}\,\mathrm{d}W_s .
$$

The integral of a deterministic function against $\mathrm{d}W$ is Gaussian with mean 0,
and by the Itô isometry its variance is
$\int_0^t e^{-(t-s)}\,\mathrm{d}s = 1 - e^{-t}$. It is independent of $x_0$, which gives the
claim.
:::

The next cell checks the two computations of the proof: the variance integral, and that
the mean factor and the variance solve the moment equations of the SDE. For a linear drift
$f(x) = a x$, taking expectations of $\mathrm{d}x$ and of $\mathrm{d}(x^2)$ (Itô) gives
$m' = a\,m$ and $v' = 2a\,v + g^2$ for the conditional mean $m$ and variance $v$, started
from $m(0) = x_0$, $v(0) = 0$. Here $a = -\tfrac12$: so $m' = -m/2$ and $v' = 1 - v$.
""")

code(r"""
m_t = F.ou_mean_scale(t) * x0
v_t = F.ou_variance(t)

ito_variance = sp.integrate(sp.exp(-(t - s)), (s, 0, t))
verify.symbolic_equal("ito-isometry-variance", ito_variance, v_t,
                      "the Ito isometry gives Var x_t = 1 - e^{-t}, the library's ou_variance(t)")

a = sp.diff(F.ou_drift(x), x)                            # slope of the linear drift, -1/2
moment_odes = sp.Matrix([
    sp.diff(m_t, t) - a * m_t,                           # m' = a m
    sp.diff(v_t, t) - (2 * a * v_t + F.ou_diffusion()**2),  # v' = 2 a v + g^2
    sp.limit(m_t, t, 0) - x0,                            # m(0) = x_0
    sp.limit(v_t, t, 0),                                 # v(0) = 0
])
verify.symbolic_zero("moment-odes", moment_odes,
                     "mean e^{-t/2} x_0 and variance 1 - e^{-t} solve m' = -m/2, v' = 1 - v from (x_0, 0)")
""")

md(r"""
The strongest check of {prf:ref}`ou-thm-transition` is to insert the claimed density
$p(x, t \mid x_0) = \N(x;\, e^{-t/2}x_0,\, 1 - e^{-t})$ into the Fokker–Planck equation and
see the residual $\partial_t p + \partial_x J$ vanish identically in $x$, $x_0$ and $t$. (Dividing
by $p > 0$ first leaves a polynomial-exponential expression that SymPy simplifies quickly.)
""")

code(r"""
p_t = gaussian_pdf(x, m_t, v_t)
residual = (sp.diff(p_t, t) - fp_rhs(p_t)) / p_t
verify.symbolic_zero("transition-solves-fokker-planck", residual,
                     "N(e^{-t/2} x_0, 1 - e^{-t}) solves the OU Fokker-Planck equation for every x, x_0, t")
""")

md(r"""
A check is only worth something if it can fail. Two tempting wrong versions: the variance
$1 - e^{-t/2}$ (mixing up the decay rate of the mean with that of the variance), and a drift
with the wrong sign, $+x/2$, which pushes mass *away* from the origin. The
`wrong_variant` block passes only if the check inside it fails.
""")

code(r"""
with verify.wrong_variant("wrong-variance-rejected", "variance 1 - e^{-t/2} does not solve the Fokker-Planck equation"):
    p_wrong = gaussian_pdf(x, m_t, 1 - sp.exp(-t / 2))
    verify.symbolic_zero("fp-wrong-variance", (sp.diff(p_wrong, t) - fp_rhs(p_wrong)) / p_wrong, "wrong variance")

with verify.wrong_variant("wrong-drift-rejected", "with drift +x/2 the transition law above is not a solution"):
    verify.symbolic_zero("fp-wrong-drift", (sp.diff(p_t, t) - fp_rhs(p_t, drift=lambda y: y / 2)) / p_t,
                         "wrong drift")
""")

md(r"""
Because $x_t = e^{-t/2}x_0 + \sqrt{1-e^{-t}}\,\varepsilon$ is linear in $x_0$, a Gaussian start
stays Gaussian: if $x_0 \sim \N(\mu, \sigma^2)$ then
$x_t \sim \N\bigl(e^{-t/2}\mu,\; e^{-t}\sigma^2 + 1 - e^{-t}\bigr)$. A mixture of Gaussians is
carried to the mixture of the carried components, with the same weights, because the
Fokker–Planck equation is linear in $p$. We use this for the exact densities in the
experiment below; here is the check that the carried Gaussian solves the equation and
starts at $\N(\mu, \sigma^2)$.
""")

code(r"""
mu, sigma = sp.symbols("mu sigma", positive=True)
var_carried = F.ou_mean_scale(t)**2 * sigma**2 + F.ou_variance(t)
p_carried = gaussian_pdf(x, F.ou_mean_scale(t) * mu, var_carried)
verify.symbolic_zero("gaussian-start-carried",
                     sp.Matrix([(sp.diff(p_carried, t) - fp_rhs(p_carried)) / p_carried,
                                var_carried.subs(t, 0) - sigma**2]),
                     "N(e^{-t/2} mu, e^{-t} sigma^2 + 1 - e^{-t}) solves Fokker-Planck and equals N(mu, sigma^2) at t = 0")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Where the process goes: $\N(0, I)$

:::{prf:theorem} $\N(0, I)$ is stationary, with zero current
:label: ou-thm-stationary

The standard normal density $\varphi$ is a stationary solution of the OU Fokker–Planck
equation. More strongly, its probability current vanishes everywhere:
$J[\varphi] = f\varphi - \tfrac12 \varphi' = 0$.
:::

:::{prf:proof}
$\varphi' = -x\varphi$, so $J = -\tfrac12 x\varphi - \tfrac12(-x\varphi) = 0$, and then
$\partial_t \varphi = -\partial_x J = 0$.
:::

A vanishing current says more than stationarity: no probability circulates at
equilibrium; drift and noise cancel point by point. (This is the *detailed balance* that
makes the process reversible at equilibrium.) A Gaussian of any other variance is not
stationary: $\N(0, 2)$, for example, is too wide, and the drift pulls it in.
""")

code(r"""
verify.symbolic_zero("phi-current-vanishes", fp_current(phi),
                     "the probability current of N(0, 1) under the OU process is 0 everywhere")
verify.symbolic_zero("phi-stationary", fp_rhs(phi),
                     "N(0, 1) is a stationary solution of the OU Fokker-Planck equation")
with verify.wrong_variant("wide-gaussian-not-stationary", "N(0, 2) is not stationary"):
    verify.symbolic_zero("fp-wide", fp_rhs(gaussian_pdf(x, 0, 2)), "N(0, 2) stationary")
""")

md(r"""
Stationary is not yet the same as *attracting*. That every start is carried to $\N(0, I)$
follows from the transition law.

:::{prf:theorem} Convergence to $\N(0, I)$ from any start
:label: ou-thm-convergence

For any distribution $p_0$, $x_t$ converges in distribution to $\N(0, I)$ as $t \to \infty$.
If $p_0$ has a finite second moment, then, per coordinate,

$$
\E[x_t] = e^{-t/2}\,\E[x_0], \qquad \operatorname{Var}(x_t) - 1 = e^{-t}\bigl(\operatorname{Var}(x_0) - 1\bigr),
$$

so the mean and the variance reach their equilibrium values exponentially fast.
:::

:::{prf:proof}
By {prf:ref}`ou-thm-transition`, $x_t = e^{-t/2}x_0 + \sqrt{1-e^{-t}}\,\varepsilon$ with
$\varepsilon$ independent of $x_0$. Its characteristic function factorises:
$\E\, e^{\mathrm{i}u x_t} = \chi_0\bigl(e^{-t/2}u\bigr)\, e^{-(1-e^{-t})u^2/2}$, where $\chi_0$ is the
characteristic function of $p_0$. As $t \to \infty$ the argument $e^{-t/2}u \to 0$, and
$\chi_0$ is continuous with $\chi_0(0) = 1$, so the product tends to $e^{-u^2/2}$, the
characteristic function of $\N(0,1)$. Lévy's continuity theorem turns this into
convergence in distribution. The moment formulas follow from the same representation and
the independence of $x_0$ and $\varepsilon$:
$\operatorname{Var}(x_t) = e^{-t}\operatorname{Var}(x_0) + 1 - e^{-t}$.
:::

We check the variance identity and, for a start that is as far from Gaussian as it gets
(two point masses at $\pm c$, characteristic function $\cos(cu)$), the limit of the
characteristic function.
""")

code(r"""
var0, u, c = sp.symbols("V_0 u c", positive=True)
var_xt = F.ou_mean_scale(t)**2 * var0 + F.ou_variance(t)        # law of total variance
verify.symbolic_equal("variance-relaxes", var_xt - 1, sp.exp(-t) * (var0 - 1),
                      "Var x_t - 1 = e^{-t} (Var x_0 - 1)")

chi_t = sp.cos(c * F.ou_mean_scale(t) * u) * sp.exp(-F.ou_variance(t) * u**2 / 2)
verify.symbolic_equal("two-point-start-converges", sp.limit(chi_t, t, sp.oo), sp.exp(-u**2 / 2),
                      "from x_0 = +-c the characteristic function of x_t tends to that of N(0, 1)")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Watching the convergence

Now the experiment. We start from a lopsided two-component mixture,
$p_0 = 0.3\,\N(-2, 0.3^2) + 0.7\,\N(1.5, 0.3^2)$, which is far from Gaussian: two narrow
bumps, mean $0.45$, variance about $2.66$. By the remark after the transition theorem,
$p_t$ is the mixture with the same weights and components
$\N\bigl(e^{-t/2}\mu_k,\; e^{-t}\sigma_k^2 + 1 - e^{-t}\bigr)$, so we know it in closed form
at every $t$. We draw $N = 10^5$ starting points and push them to several times with the
exact sampler `ou_sample` (one Gaussian draw per point, no time stepping).
""")

code(r"""
weights = np.array([0.3, 0.7])
means = np.array([-2.0, 1.5])
sds = np.array([0.3, 0.3])


def sample_p0(n, generator):
    labels = (torch.rand(n, generator=generator) < weights[1]).long()
    return torch.as_tensor(means)[labels] + torch.as_tensor(sds)[labels] * torch.randn(n, generator=generator)


def mixture_params_t(t):
    # weights, means and standard deviations of p_t, from the carried-Gaussian formula
    scale, var = F.ou_mean_scale(np.float64(t)), F.ou_variance(np.float64(t))
    return weights, scale * means, np.sqrt(scale**2 * sds**2 + var)


def mixture_pdf_t(xs, t):
    w, m, sd = mixture_params_t(t)
    return sum(wk * stats.norm.pdf(xs, mk, sk) for wk, mk, sk in zip(w, m, sd))


def mixture_cdf_t(xs, t):
    w, m, sd = mixture_params_t(t)
    return sum(wk * stats.norm.cdf(xs, mk, sk) for wk, mk, sk in zip(w, m, sd))


N = 100_000
x0_samples = sample_p0(N, g)
times = [0.0, 0.1, 0.5, 1.0, 2.0, 4.0, 12.0]
xt_samples = {tt: F.ou_sample(x0_samples, tt, generator=g).numpy() for tt in times}
mean0 = float(weights @ means)
var0_exact = float(weights @ (sds**2 + means**2) - mean0**2)
print(f"p_0: mean {mean0:.3g}, variance {var0_exact:.3g}")
""")

code(r"""
fig, axes = plt.subplots(1, 6, figsize=(13, 2.6), sharey=True)
grid = np.linspace(-4.5, 4.5, 400)
for ax, tt in zip(axes, times[:6]):
    ax.hist(xt_samples[tt], bins=120, range=(-4.5, 4.5), density=True, color="C0", alpha=0.45, label="samples")
    ax.plot(grid, mixture_pdf_t(grid, tt), color="C3", lw=1.3, label="exact $p_t$")
    ax.plot(grid, stats.norm.pdf(grid), "k--", lw=1, label=r"$\mathcal{N}(0,1)$")
    ax.set_title(f"t = {tt:g}")
    ax.set_xlabel("x")
axes[0].set_ylim(0, 1.0)
axes[0].legend(loc="upper left", fontsize=7)
fig.tight_layout()
plt.show()
""")

md(r"""
**Figure 1.** Histograms of $10^5$ samples of $x_t$ (shaded) against the exact density
$p_t$ (red) and $\N(0,1)$ (dashed). What to see: at $t = 0.1$ the two bumps have only
widened; at $t = 0.5$–$1$ they have merged into one lopsided hump; by $t = 4$ the density is
hard to tell from $\N(0,1)$ by eye. The histograms follow the exact curve at every time.
""")

md(r"""
Pictures can mislead, so we test three statements, each with a stated rule.

* **Moments.** At every $t$, the sample mean and variance of $x_t$ must lie within 4
  standard errors of the exact values $e^{-t/2}\E x_0$ and $e^{-t}\operatorname{Var}x_0 + 1 - e^{-t}$
  ({prf:ref}`ou-thm-convergence`). The standard error of a sample variance is estimated as
  $\sqrt{(\hat\mu_4 - \hat\sigma^4)/N}$ from the fourth central moment. For a correct
  sampler a deviation of 4 standard errors has probability below $10^{-4}$.
* **Whole distribution.** The Kolmogorov–Smirnov (KS) statistic
  $D = \sup_x |\hat F_N(x) - F(x)|$ compares the empirical CDF with a hypothesised CDF $F$.
  If the sample really comes from $F$ (a continuous CDF), the distribution of $D$ is known and
  does not depend on $F$; the **p-value** is the probability that a sample drawn from $F$ would show a
  $D$ at least as large. We accept "the sample follows $F$" when $p > 10^{-3}$ (so a correct
  sampler fails with probability $10^{-3}$ per test) and reject "the sample follows $F$"
  when $p < 10^{-10}$.
* **Not Gaussian yet at small $t$**, and Gaussian to within what $10^5$ samples can resolve
  at large $t$.
""")

code(r"""
emp_mean = np.array([xt_samples[tt].mean() for tt in times])
emp_var = np.array([xt_samples[tt].var() for tt in times])
mu4 = np.array([((xt_samples[tt] - xt_samples[tt].mean())**4).mean() for tt in times])
tt_arr = np.array(times)
exact_mean = F.ou_mean_scale(tt_arr) * mean0
exact_var = F.ou_mean_scale(tt_arr)**2 * var0_exact + F.ou_variance(tt_arr)

verify.within_standard_errors("mc-mean-at-each-t", emp_mean, exact_mean, np.sqrt(emp_var / N),
                              "the sample mean of x_t matches e^{-t/2} E x_0 at t = 0 ... 12")
verify.within_standard_errors("mc-variance-at-each-t", emp_var, exact_var, np.sqrt((mu4 - emp_var**2) / N),
                              "the sample variance of x_t matches e^{-t} Var x_0 + 1 - e^{-t} at t = 0 ... 12")

ks_exact = np.array([stats.kstest(xt_samples[tt], lambda z, tt=tt: mixture_cdf_t(z, tt)).pvalue for tt in times])
print("KS p-values against the exact p_t:", ", ".join(f"{p:.3g}" for p in ks_exact))
verify.holds("ks-exact-law", np.all(ks_exact > 1e-3),
             "at every t the samples pass a KS test (p > 1e-3) against the exact mixture p_t")
""")

md(r"""
Now the comparison with $\N(0,1)$. At $t = 0.5$ we do not even compare with $\N(0,1)$ but
with the Gaussian that has the *same* mean and variance as $p_{0.5}$: if that is rejected,
$p_{0.5}$ differs from every Gaussian, not just in its first two moments. At $t = 4$ the
figure looks converged, but the mean is still $e^{-2}\cdot 0.45 \approx 0.06$ away from 0,
which $10^5$ samples resolve easily. At $t = 12$ the remaining differences (mean
$\approx 10^{-3}$, variance error $\approx 10^{-5}$) are far below what the test can see,
since with $N = 10^5$ samples it detects CDF differences of order $1/\sqrt{N} \approx 0.003$.
""")

code(r"""
t_small = 0.5
matched = stats.norm(exact_mean[times.index(t_small)], np.sqrt(exact_var[times.index(t_small)]))
p_small = stats.kstest(xt_samples[t_small], matched.cdf).pvalue
p_mid = stats.kstest(xt_samples[4.0], stats.norm.cdf).pvalue
p_large = stats.kstest(xt_samples[12.0], stats.norm.cdf).pvalue


def show_p(p):
    return "< 1e-10" if p < 1e-10 else f"{p:.3g}"


print(f"KS p-value, t = 0.5 vs the moment-matched Gaussian: {show_p(p_small)}")
print(f"KS p-value, t = 4   vs N(0, 1): {show_p(p_mid)}")
print(f"KS p-value, t = 12  vs N(0, 1): {show_p(p_large)}")
verify.less_than("not-gaussian-at-small-t", p_small, 1e-10,
                 "at t = 0.5, x_t is rejected as Gaussian even with its own mean and variance",
                 why="rejection threshold p < 1e-10 stated above")
verify.less_than("not-converged-at-t4", p_mid, 1e-10,
                 "at t = 4 the remaining mean offset 0.06 is detected with 1e5 samples",
                 why="rejection threshold p < 1e-10 stated above")
verify.holds("gaussian-at-large-t", p_large > 1e-3,
             "at t = 12, x_t passes a KS test against N(0, 1) with p > 1e-3")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Paths

The transition law gives $x_t$ at one time. To see whole paths we simulate the SDE with
the **Euler–Maruyama** scheme on a grid of step $h$,
$x_{k+1} = x_k + f(x_k)\,h + \sqrt{h}\,\xi_k$ with independent $\xi_k \sim \N(0,1)$
(`ou_euler_maruyama`). Its error in distribution is of order $h$; with $h = 0.01$ it is
below the Monte Carlo noise of what we measure. We start every path at $x_0 = 2.5$ and
compare with the band $e^{-t/2}x_0 \pm 2\sqrt{1 - e^{-t}}$ of the exact transition, which
should hold a path at a fixed time with probability $0.954$.
""")

code(r"""
h_em = 0.01
t_grid = torch.linspace(0.0, 6.0, 601)
x_start = 2.5
paths = F.ou_euler_maruyama(torch.full((10_000,), x_start), t_grid, generator=g, return_path=True)  # (601, 10000)

band_mean = F.ou_mean_scale(t_grid) * x_start
band_sd = torch.sqrt(F.ou_variance(t_grid))
fig, ax = plt.subplots(figsize=(7, 3.4))
ax.fill_between(t_grid.numpy(), (band_mean - 2 * band_sd).numpy(), (band_mean + 2 * band_sd).numpy(), color="C1", alpha=0.2,
                label=r"exact mean $\pm 2$ sd")
ax.plot(t_grid.numpy(), band_mean.numpy(), color="C1", lw=1.5, label=r"exact mean $e^{-t/2}x_0$")
for k, color in enumerate(["C0", "C2", "C3", "C4", "C5", "C9"]):
    ax.plot(t_grid.numpy(), paths[:, k].numpy(), lw=0.8, color=color)
ax.axhline(0, color="k", lw=0.6)
ax.set_xlabel("t")
ax.set_ylabel("$x_t$")
ax.legend(loc="upper right", fontsize=8)
plt.show()
""")

md(r"""
**Figure 2.** Six Euler–Maruyama paths of the OU process from $x_0 = 2.5$, with the exact
conditional mean and the $\pm 2$ standard deviation band. What to see: the paths forget
their start at the rate $e^{-t/2}$ of the mean; the band widens quickly at first (variance
$1 - e^{-t} \approx t$ for small $t$, as for Brownian motion) and then settles at the
stationary width $\pm 2$. Individual paths keep fluctuating: stationarity is a property of
the distribution, not of the path.
""")

code(r"""
checkpoints = [50, 100, 200, 400, 600]                  # t = 0.5, 1, 2, 4, 6
inside = ((paths[checkpoints] - band_mean[checkpoints, None]).abs() <= 2 * band_sd[checkpoints, None])
frac_inside = inside.double().mean(dim=1)
p_band = math.erf(2 / math.sqrt(2))                     # P(|Z| <= 2) = 0.9545
print("fraction inside the band at t = 0.5, 1, 2, 4, 6:", ", ".join(f"{f:.3g}" for f in frac_inside.tolist()))
verify.within_standard_errors("paths-in-band", frac_inside, p_band, math.sqrt(p_band * (1 - p_band) / 10_000),
                              "the fraction of Euler-Maruyama paths inside the exact 2-sd band is 0.954")
end = paths[-1]
verify.within_standard_errors("em-moments-t6", torch.stack([end.mean(), end.var()]),
                              torch.stack([band_mean[-1], band_sd[-1]**2]),
                              torch.tensor([math.sqrt(float(end.var()) / 10_000), math.sqrt(2 / 10_000)]),
                              "Euler-Maruyama (h = 0.01) reproduces the exact mean and variance at t = 6")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## The discrete chain of DDPM

DDPM does not simulate an SDE. It fixes a **schedule** $\beta_1, \dots, \beta_n \in (0, 1)$ and
adds noise in $n$ steps.

:::{prf:definition} The variance-preserving (VP) chain
:label: ou-def-vp

Given $x_0 \sim p_0$ and independent $\varepsilon_1, \dots, \varepsilon_n \sim \N(0, I)$,

$$
x_i = \sqrt{1 - \beta_i}\; x_{i-1} + \sqrt{\beta_i}\; \varepsilon_i, \qquad i = 1, \dots, n .
$$

We write $\alpha_i = 1 - \beta_i$ and $\abar_i = \alpha_1 \alpha_2 \cdots \alpha_i$, with
$\abar_0 = 1$ (the empty product).
:::

Each step shrinks the current point towards 0 and adds a little fresh noise. Applying
$i$ steps one by one is wasteful when all we want is $x_i$: the composition has a closed
form.

:::{prf:theorem} Closed form of the VP chain
:label: ou-thm-vp-marginal

For every $i = 0, \dots, n$,

$$
x_i \mid x_0 \;\sim\; \N\bigl(\sqrt{\abar_i}\; x_0,\; (1 - \abar_i)\, I\bigr),
\qquad\text{that is}\qquad
x_i \overset{d}{=} \sqrt{\abar_i}\, x_0 + \sqrt{1 - \abar_i}\; \varepsilon .
$$
:::

:::{prf:proof}
By induction on $i$. For $i = 0$, $\abar_0 = 1$ and the claim reads $x_0 = x_0$. Suppose that
given $x_0$, $x_{i-1}$ is Gaussian with mean $\sqrt{\abar_{i-1}}\,x_0$ and variance
$1 - \abar_{i-1}$. Then $x_i = \sqrt{\alpha_i}\,x_{i-1} + \sqrt{1 - \alpha_i}\,\varepsilon_i$
is a sum of two independent Gaussians (given $x_0$), hence Gaussian, with mean
$\sqrt{\alpha_i}\sqrt{\abar_{i-1}}\,x_0 = \sqrt{\abar_i}\,x_0$ and variance
$\alpha_i(1 - \abar_{i-1}) + (1 - \alpha_i) = 1 - \alpha_i\abar_{i-1} = 1 - \abar_i$.
:::

The check runs the induction step through the library: `vp_marginal` produces $x_{i-1}$
from the hypothesis, `vp_step` takes one step with fresh noise, and the mean and variance
of the result (the coefficient of $x_0$, and the sum of the squared coefficients of the
independent noises) must equal those of `vp_marginal` at $\abar_i = \alpha_i\abar_{i-1}$. We
write the step as $\beta_i = 1 - \alpha_i$ with a positive symbol $\alpha_i$, so that SymPy
knows $1 - \beta_i > 0$ when it combines square roots.
""")

code(r"""
e1, e2 = sp.symbols("epsilon_1 epsilon_2", real=True)
alpha_i, abar_prev = sp.symbols(r"alpha_i \bar{\alpha}_{i-1}", positive=True)
beta_i = 1 - alpha_i


def mean_and_variance(expr, noises):
    # expr is linear in x_0 and in independent N(0, 1) noises
    return sp.Matrix([expr.subs({e: 0 for e in noises}), sum(sp.diff(expr, e)**2 for e in noises)])


x_prev = F.vp_marginal(x0, abar_prev, e1)                 # induction hypothesis for x_{i-1}
x_next = F.vp_step(x_prev, beta_i, e2)                    # one VP step with fresh noise
claimed = F.vp_marginal(x0, alpha_i * abar_prev, e2)      # closed form with abar_i = alpha_i abar_{i-1}
verify.symbolic_equal("vp-induction-step", mean_and_variance(x_next, [e1, e2]), mean_and_variance(claimed, [e2]),
                      "one vp_step maps N(sqrt(abar_{i-1}) x_0, 1 - abar_{i-1}) to N(sqrt(abar_i) x_0, 1 - abar_i)")
verify.symbolic_equal("vp-base-case", F.vp_marginal(x0, sp.Integer(1), e1), x0,
                      "with abar_0 = 1 the closed form returns x_0 itself")
""")

md(r"""
In code the two routes are `markov_chain` (step by step) and `q_sample` (one shot).
{prf:ref}`ou-thm-vp-marginal` says they produce the same distribution, although not the
same samples. We run both on the linear schedule of DDPM ($n = 1000$, $\beta$ from
$10^{-4}$ to $0.02$) from $N = 5\cdot 10^4$ draws of the same mixture $p_0$ as above, at
$i = 100$ and $i = n$. The rule: the means and variances of the two samples agree within 4
standard errors of their difference, and a two-sample KS test does not reject ($p > 10^{-3}$).
""")

code(r"""
lin = linear_schedule()
cos = cosine_schedule()
print(lin)
print(cos)

N_vp = 50_000
x0_vp = sample_p0(N_vp, g)
rows = []
for i in (100, lin.n):
    chain = F.markov_chain(lin, x0_vp, generator=g, steps=i)
    one_shot, _ = F.q_sample(lin, x0_vp, i, generator=g)
    diff = torch.stack([chain.mean() - one_shot.mean(), chain.var() - one_shot.var()])
    se = torch.stack([torch.sqrt((chain.var() + one_shot.var()) / N_vp),
                      torch.sqrt(((chain - chain.mean())**4).mean() / N_vp + ((one_shot - one_shot.mean())**4).mean() / N_vp
                                 - (chain.var()**2 + one_shot.var()**2) / N_vp)])
    rows.append((i, diff, se, stats.ks_2samp(chain.numpy(), one_shot.numpy()).pvalue))
    print(f"i = {i:4d}: mean {chain.mean():.3g} vs {one_shot.mean():.3g}, "
          f"variance {chain.var():.3g} vs {one_shot.var():.3g}, KS p = {rows[-1][3]:.3g}")

verify.within_standard_errors("chain-vs-q-sample-moments", torch.cat([r[1] for r in rows]), torch.zeros(4),
                              torch.cat([r[2] for r in rows]),
                              "markov_chain and q_sample agree in mean and variance at i = 100 and i = n")
verify.holds("chain-vs-q-sample-ks", all(r[3] > 1e-3 for r in rows),
             "a two-sample KS test does not tell markov_chain from q_sample (p > 1e-3) at i = 100 and i = n")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Why "variance preserving"

The factor $\sqrt{1-\beta_i}$ in front of $x_{i-1}$ is not arbitrary: it is what keeps unit
variance at unit variance.

:::{prf:proposition} Variance preservation
:label: ou-prop-vp

If $\operatorname{Var}x_{i-1} = v$, then $\operatorname{Var}x_i = (1-\beta_i)v + \beta_i$, so
$\operatorname{Var}x_i - 1 = (1 - \beta_i)(v - 1)$. In particular, unit variance is preserved
exactly, and any other variance moves towards 1. The OU process has the same property
in continuous time: $\bigl(e^{-t/2}\bigr)^2 + (1 - e^{-t}) = 1$.
:::

:::{prf:proof}
$x_{i-1}$ and $\varepsilon_i$ are independent, so the variances add with the squared
coefficients: $(1 - \beta_i)v + \beta_i \cdot 1$. Subtract 1 and factor.
:::

Without the shrink factor, $x_i = x_{i-1} + \sqrt{\beta_i}\,\varepsilon_i$, the variance grows
to $v + \beta_i$ at every step (that chain is the discrete form of the *variance exploding*
family of diffusions); the wrong-variant block below checks that it does not preserve
unit variance.
""")

code(r"""
v, beta = sp.symbols("v beta", positive=True)
step = F.vp_step(x, beta, e1)
var_after = sp.diff(step, x)**2 * v + sp.diff(step, e1)**2 * 1     # independent x and eps
verify.symbolic_equal("vp-variance-contracts", var_after - 1, (1 - beta) * (v - 1),
                      "Var x_i - 1 = (1 - beta_i)(Var x_{i-1} - 1) for one vp_step")
verify.symbolic_equal("vp-unit-variance-preserved", var_after.subs(v, 1), 1,
                      "a vp_step maps unit variance to unit variance")
verify.symbolic_equal("ou-unit-variance-preserved", F.ou_mean_scale(t)**2 + F.ou_variance(t), 1,
                      "the OU transition maps unit variance to unit variance: e^{-t} + (1 - e^{-t}) = 1")
with verify.wrong_variant("no-shrink-not-preserving", "x_i = x_{i-1} + sqrt(beta) eps does not preserve unit variance"):
    ve_step = x + sp.sqrt(beta) * e1
    verify.symbolic_equal("ve", sp.diff(ve_step, x)**2 + sp.diff(ve_step, e1)**2, 1, "variance exploding")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Two schedules

Two schedules are standard. The **linear** schedule of DDPM {cite}`ho2020denoising` spaces
$\beta_i$ evenly from $10^{-4}$ to $0.02$ over $n = 1000$ steps. The **cosine** schedule of
{cite}`nichol2021improved` instead prescribes
$\abar_i = f(i/n)/f(0)$ with $f(u) = \cos^2\!\bigl(\tfrac{u + s}{1 + s}\tfrac{\pi}{2}\bigr)$, $s = 0.008$,
and derives $\beta_i = 1 - \abar_i/\abar_{i-1}$, clipped at $0.999$ because $\abar_n = 0$ would
make the last $\beta$ equal to 1. The signal-to-noise ratio
$\mathrm{SNR}_i = \abar_i / (1 - \abar_i)$ (the variance of the signal part of $x_i$ over that
of the noise part, for unit-variance data) summarises how much of $x_0$ is left.
""")

code(r"""
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
for sch, name, color in ((lin, "linear", "C0"), (cos, "cosine", "C3")):
    frac = np.arange(sch.n + 1) / sch.n
    ab = sch.alpha_bars.numpy()
    axes[0].plot(frac, ab, color=color, label=name)
    axes[1].semilogy(frac[1:], sch.betas[1:].numpy(), color=color, label=name)
    axes[2].semilogy(frac[1:], ab[1:] / (1 - ab[1:]), color=color, label=name)
axes[0].set_ylabel(r"$\bar\alpha_i$")
axes[1].set_ylabel(r"$\beta_i$")
axes[2].set_ylabel(r"SNR$_i = \bar\alpha_i/(1-\bar\alpha_i)$")
for ax in axes:
    ax.set_xlabel("i / n")
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
""")

md(r"""
**Figure 3.** The linear and the cosine schedule, $n = 1000$, against the fraction $i/n$ of
the steps taken. What to see: the linear schedule destroys the signal early ($\abar_i$ is
below $0.1$ before halfway), so many of its steps act on almost pure noise; the cosine
schedule lowers $\abar_i$ almost linearly in the middle and spreads the SNR more evenly
over the steps (its log-SNR is close to a straight line). Its $\beta_i$ shoots up in the
last few steps and hits the clip $0.999$ at $i = n$.
""")

code(r"""
snr_lin = lin.alpha_bars / (1 - lin.alpha_bars)
snr_cos = cos.alpha_bars / (1 - cos.alpha_bars)
verify.holds("snr-decreasing", bool((snr_lin[1:] < snr_lin[:-1]).all() and (snr_cos[1:] < snr_cos[:-1]).all()),
             "the SNR strictly decreases along both schedules (every beta_i > 0)")
print(f"linear: abar_n = {float(lin.alpha_bars[-1]):.3g}, t_n = {float(lin.times[-1]):.3g}; "
      f"cosine: abar_n = {float(cos.alpha_bars[-1]):.3g}, t_n = {float(cos.times[-1]):.3g}, "
      f"last betas {', '.join(f'{b:.3g}' for b in cos.betas[-3:].tolist())}")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## One process, two clocks

How is the chain related to the SDE? Read $\beta_i$ as a **step size**: step $i$ advances
the OU clock by $\beta_i$, so that after $i$ steps the clock shows

$$
t_i = \beta_1 + \beta_2 + \dots + \beta_i
$$

(`Schedule.times`). Over a time $\beta$ the exact OU transition multiplies $x$ by $e^{-\beta/2}$
and adds noise of variance $1 - e^{-\beta}$; the VP step multiplies by $\sqrt{1-\beta}$ and adds
noise of variance $\beta$. Both pairs agree up to $O(\beta^2)$:

$$
\sqrt{1-\beta} = 1 - \tfrac{\beta}{2} - \tfrac{\beta^2}{8} + O(\beta^3), \qquad
e^{-\beta/2} = 1 - \tfrac{\beta}{2} + \tfrac{\beta^2}{8} + O(\beta^3), \qquad
1 - e^{-\beta} = \beta - \tfrac{\beta^2}{2} + O(\beta^3).
$$

So a VP step is one step of a consistent scheme for the OU process, exact to first order
(and, unlike Euler–Maruyama, exactly variance preserving; see the exercises).
""")

code(r"""
b = sp.symbols("beta", positive=True)
scale_vp = sp.diff(F.vp_step(x, b, e1), x)               # sqrt(1 - beta)
noise_var_vp = sp.diff(F.vp_step(x, b, e1), e1)**2       # beta
gap = sp.Matrix([scale_vp - F.ou_mean_scale(b), noise_var_vp - F.ou_variance(b)])
gap_series = gap.applyfunc(lambda e: sp.series(e, b, 0, 3).removeO())
verify.symbolic_equal("vp-step-matches-ou-to-first-order", gap_series, sp.Matrix([-b**2 / 4, b**2 / 2]),
                      "VP step and exact OU transition over time beta differ by O(beta^2): -beta^2/4 and +beta^2/2")
""")

md(r"""
Errors of size $\beta^2$ per step add up to about $\sum_j \beta_j^2$, which vanishes when the
steps shrink. For equal steps $\beta = t/m$ the product becomes the familiar limit
$\abar = (1 - t/m)^m \to e^{-t}$ as $m \to \infty$: the chain converges to the SDE.
""")

code(r"""
m_steps = sp.symbols("m", positive=True, integer=True)
verify.symbolic_equal("equal-steps-limit", sp.limit((1 - t / m_steps)**m_steps, m_steps, sp.oo),
                      F.ou_mean_scale(t)**2,
                      "with m equal steps beta = t/m, abar = (1 - t/m)^m tends to e^{-t} = ou_mean_scale(t)^2")
""")

md(r"""
For a fixed, finite schedule we want a number, not a limit. The key is an elementary
two-sided bound on $\log(1 - \beta)$.

:::{prf:theorem} How close $\abar_i$ is to $e^{-t_i}$
:label: ou-thm-clock-bound

For $0 < \beta < 1$,
$\;-\beta - \dfrac{\beta^2}{2(1-\beta)} \;\le\; \log(1 - \beta) \;\le\; -\beta .$
Consequently, for every schedule and every $i$,

$$
0 \;\le\; -\bigl(\log\abar_i + t_i\bigr) \;\le\; B_i := \sum_{j=1}^{i} \frac{\beta_j^2}{2(1 - \beta_j)},
\qquad
0 \;\le\; e^{-t_i} - \abar_i \;\le\; e^{-t_i}\bigl(1 - e^{-B_i}\bigr) \le e^{-t_i} B_i .
$$
:::

:::{prf:proof}
Let $u(\beta) = \log(1-\beta) + \beta$ and $\ell(\beta) = u(\beta) + \frac{\beta^2}{2(1-\beta)}$.
Both vanish at $\beta = 0$, and $u'(\beta) = -\frac{\beta}{1 - \beta} \le 0$ while
$\ell'(\beta) = \frac{\beta^2}{2(1-\beta)^2} \ge 0$, so $u \le 0 \le \ell$ on $(0, 1)$, which is
the two-sided bound. Summing it over $j \le i$, since $\log\abar_i = \sum_j \log(1 - \beta_j)$
and $t_i = \sum_j \beta_j$, gives the bound on $\delta_i := \log\abar_i + t_i \in [-B_i, 0]$.
Finally $e^{-t_i} - \abar_i = e^{-t_i}(1 - e^{\delta_i})$ and $0 \le 1 - e^{\delta_i} \le 1 - e^{-B_i} \le B_i$.
:::

First the two derivatives and the values at 0, symbolically:
""")

code(r"""
u_fn = sp.log(1 - b) + b
l_fn = u_fn + b**2 / (2 * (1 - b))
verify.symbolic_zero("log-bound-derivatives",
                     sp.Matrix([sp.diff(u_fn, b) + b / (1 - b), sp.diff(l_fn, b) - b**2 / (2 * (1 - b)**2),
                                u_fn.subs(b, 0), l_fn.subs(b, 0)]),
                     "u' = -beta/(1-beta), l' = beta^2/(2(1-beta)^2), u(0) = l(0) = 0")
""")

md(r"""
Then the bound on the two real schedules. For each we compute the gap
$\delta_i = \log\abar_i + t_i$, the bound $B_i$, and the largest absolute difference
$\max_i|\abar_i - e^{-t_i}|$, and check the theorem at every step.
""")

code(r"""
def clock_gap(sch):
    ab, times_, betas = sch.alpha_bars, sch.times, sch.betas
    delta = torch.log(ab) + times_
    bound = torch.cumsum(betas**2 / (2 * (1 - betas)), dim=0)
    abs_gap = torch.exp(-times_) - ab
    return delta, bound, abs_gap


for sch, name in ((lin, "linear"), (cos, "cosine")):
    delta, bound, abs_gap = clock_gap(sch)
    k = int(abs_gap.abs().argmax())
    print(f"{name}: max |abar_i - e^(-t_i)| = {float(abs_gap.abs().max()):.3g} at i = {k}; "
          f"|log abar_n + t_n| = {float(-delta[-1]):.3g}, bound B_n = {float(bound[-1]):.3g}")
    slack = 1e-12                                         # float64 round-off in cumsum / cumprod over 1000 terms
    verify.holds(f"clock-bound-{name}",
                 bool((delta <= slack).all() and (-delta <= bound + slack).all()
                      and (abs_gap >= -slack).all() and (abs_gap <= torch.exp(-sch.times) * bound + slack).all()),
                 f"{name} schedule: -B_i <= log abar_i + t_i <= 0 and 0 <= e^(-t_i) - abar_i <= e^(-t_i) B_i at every i")
""")

md(r"""
For the linear schedule the bound is nearly tight ($B_n \approx 0.068$ against an actual
$0.068$): all its steps are small, so the first neglected term $\beta^2/2$ is essentially
the whole error, and $\abar_i$ and $e^{-t_i}$ never differ by more than $10^{-3}$.

For the cosine schedule the bound still holds, as it must, but it says nothing: its last
steps are not small ($\beta_{n-1} = 0.75$, $\beta_n = 0.999$), so $B_n$ is in the hundreds.
At such a step, $\log(1 - 0.999) \approx -6.9$ while the clock advances only by $0.999$;
the small-step reading of $\beta$ as a time increment simply fails there. In absolute
terms the two curves still agree to better than $10^{-3}$, because by then both are tiny,
but in relative terms ($\log\abar_i$ versus $-t_i$) the last few cosine steps are far from
the OU clock. This is why continuous-time formulations define the cosine schedule by its
$\abar$ and not by its $\beta$'s.
""")

code(r"""
fig, axes = plt.subplots(1, 2, figsize=(12, 3.4))
for sch, name, color in ((lin, "linear", "C0"), (cos, "cosine", "C3")):
    frac = np.arange(sch.n + 1) / sch.n
    delta, bound, _ = clock_gap(sch)
    axes[0].plot(frac, sch.alpha_bars.numpy(), color=color, lw=2.2, alpha=0.5, label=rf"{name}: $\bar\alpha_i$")
    axes[0].plot(frac, torch.exp(-sch.times).numpy(), color="k", ls=":", lw=1.1)
    axes[1].semilogy(frac[1:], (-delta[1:]).numpy(), color=color, label=rf"{name}: $|\log\bar\alpha_i + t_i|$")
    axes[1].semilogy(frac[1:], bound[1:].numpy(), color=color, ls="--", lw=1, label=rf"{name}: bound $B_i$")
axes[0].plot([], [], color="k", ls=":", label=r"$e^{-t_i}$")
axes[0].set_ylabel("signal coefficient squared")
axes[1].set_ylabel("log-scale gap")
axes[1].set_ylim(1e-8, 1e3)
for ax in axes:
    ax.set_xlabel("i / n")
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
""")

md(r"""
**Figure 4.** Left: $\abar_i$ (thick, pale) and $e^{-t_i}$ (dotted) for both schedules; the
curves lie on top of each other. Right: the gap $|\log\abar_i + t_i|$ (solid) and its bound
$B_i$ (dashed), on a log scale. What to see: for the linear schedule gap and bound grow
together and stay below $0.07$; for the cosine schedule both are tiny until the last few
percent of the steps, where the large $\beta_i$ make the gap jump to about $7$ and the
bound to about $500$.
""")

# ---------------------------------------------------------------------------------------
md(r"""
## A picture in two dimensions

In $d$ dimensions the same formulas act on every coordinate at once. We take a 2-D
mixture of eight Gaussians on a ring (`ring_mixture` from `ddpm_lib.mixtures`), with radius
and width chosen so that each coordinate has variance close to 1, and push samples through
the linear schedule with `q_sample` at several steps $i$. Because the start is a Gaussian
mixture, $q(x_i)$ is again one, with components
$\N\bigl(\sqrt{\abar_i}\,\mu_k,\; \abar_i\Sigma_k + (1 - \abar_i) I\bigr)$ (the discrete version of the
carried-Gaussian formula); `diffuse_discrete` computes it, and we draw its density as
contours.
""")

code(r"""
from ddpm_lib.mixtures import ring_mixture

ring = ring_mixture(k=8, radius=1.4, std=0.2)
print("per-coordinate variance of the data:", ", ".join(f"{v:.3g}" for v in torch.diagonal(ring.covariance()).tolist()))
cloud = ring.sample(4000, generator=g)
steps_shown = [0, 25, 50, 100, 200, 400, 1000]
lim = 3.6
gx, gy = torch.meshgrid(torch.linspace(-lim, lim, 121), torch.linspace(-lim, lim, 121), indexing="xy")
grid_pts = torch.stack([gx, gy], dim=-1)
fig, axes = plt.subplots(1, len(steps_shown), figsize=(14, 2.4), sharex=True, sharey=True)
for ax, i in zip(axes, steps_shown):
    xi, _ = F.q_sample(lin, cloud, i, generator=g)
    ab_i = float(lin.alpha_bars[i])
    ax.scatter(xi[:, 0].numpy(), xi[:, 1].numpy(), s=1, alpha=0.35, color="C0")
    density = ring.diffuse_discrete(ab_i).log_prob(grid_pts).exp()
    ax.contour(gx.numpy(), gy.numpy(), density.numpy(), levels=4, colors="C3", linewidths=0.7)
    ax.set_title(rf"$i={i}$, $\bar\alpha_i={ab_i:.2g}$", fontsize=9)
    ax.set_aspect("equal")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
fig.tight_layout()
plt.show()
""")

md(r"""
**Figure 5.** Eight Gaussians on a ring ($i = 0$) pushed through the linear schedule:
samples of $x_i \sim q(x_i \mid x_0)$ (dots) and contours of the exact density $q(x_i)$ (red),
with $\abar_i$ in each title. What to see: the modes blur into each other first (by
$i = 100$, where $\abar_i \approx 0.9$ still, the gaps between neighbours are filling in);
the ring then fills in at the centre; from $i \approx 400$ on the cloud is a round standard
Gaussian. Because the data have (almost) unit variance, the spread of the cloud stays
about the same throughout: variance preservation at work.
""")

code(r"""
xn, _ = F.q_sample(lin, cloud, lin.n, generator=g)
ab_n = lin.alpha_bars[-1]
exp_mean = ab_n.sqrt() * ring.mean()
exp_cov = ab_n * ring.covariance() + (1 - ab_n) * torch.eye(2)
n_pts = cloud.shape[0]
# standard errors for approximately N(0, I) samples: mean 1/sqrt(N), variance sqrt(2/N), covariance sqrt(1/N)
se = torch.tensor([1.0, 1.0, 2.0, 1.0, 1.0, 2.0]).sqrt() / math.sqrt(n_pts)
verify.within_standard_errors("ring-becomes-standard-normal",
                              torch.cat([xn.mean(0), torch.cov(xn.T).flatten()]),
                              torch.cat([exp_mean, exp_cov.flatten()]), se,
                              "after n linear-schedule steps the 2-D ring has mean ~0 and covariance ~I")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## What to remember

* The forward process $\mathrm{d}x = -\tfrac12 x\,\mathrm{d}t + \mathrm{d}W$ is Langevin dynamics for
  $\N(0, I)$ at half speed; its drift is half the score of $\N(0, I)$.
* Its transition is Gaussian and known exactly:
  $x_t = e^{-t/2}x_0 + \sqrt{1 - e^{-t}}\,\varepsilon$. Training never needs to simulate the SDE.
* $\N(0, I)$ is stationary with zero current, and every start converges to it; mean and
  variance relax like $e^{-t/2}$ and $e^{-t}$.
* DDPM's chain is the same process on the clock $t_i = \sum_{j \le i} \beta_j$:
  $x_i = \sqrt{\abar_i}\,x_0 + \sqrt{1 - \abar_i}\,\varepsilon$ with
  $\abar_i = e^{-t_i}\bigl(1 + O(\sum_j\beta_j^2)\bigr)$, an approximation that is excellent
  for small $\beta$ and breaks down at the cosine schedule's final, clipped steps.
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Exercises

````{exercise} The covariance of an OU path
:label: ou-ex-covariance

Fix $x_0$ and let $0 \le s \le t$. Show that
$\operatorname{Cov}(x_s, x_t \mid x_0) = e^{-(t-s)/2}\,\bigl(1 - e^{-s}\bigr)$ (per coordinate).
What does this give as $s \to \infty$ with $t - s$ fixed?
````

````{solution} ou-ex-covariance
:class: dropdown

From the proof of {prf:ref}`ou-thm-transition`, $x_s - \E[x_s \mid x_0] = \int_0^s e^{-(s-u)/2}\,\mathrm{d}W_u$,
and likewise for $t$. By the Itô isometry (the covariance of two Wiener integrals is the
integral of the product of their integrands over the common range $[0, s]$),

$$
\operatorname{Cov}(x_s, x_t \mid x_0) = \int_0^s e^{-(s-u)/2}\, e^{-(t-u)/2}\,\mathrm{d}u
= e^{-(s+t)/2}\,\bigl(e^{s} - 1\bigr) = e^{-(t-s)/2}\bigl(1 - e^{-s}\bigr).
$$

A second route uses the Markov property: $x_t = e^{-(t-s)/2}x_s + (\text{noise independent of } x_s)$,
so $\operatorname{Cov}(x_s, x_t) = e^{-(t-s)/2}\operatorname{Var}(x_s) = e^{-(t-s)/2}(1 - e^{-s})$.
As $s \to \infty$ this tends to $e^{-(t-s)/2}$: at equilibrium the OU process has
correlation $e^{-|t-s|/2}$ between two times, whatever $x_0$ was.
````
""")

code(r"""
t_later = sp.symbols("t", positive=True)
cov_ito = sp.integrate(sp.exp(-(s - u) / 2) * sp.exp(-(t_later - u) / 2), (u, 0, s))
cov_markov = F.ou_mean_scale(t_later - s) * F.ou_variance(s)
verify.symbolic_equal("exercise-covariance", cov_ito, cov_markov,
                      "Cov(x_s, x_t | x_0) = e^{-(t-s)/2}(1 - e^{-s}) by the Ito isometry and by the Markov property")
""")

md(r"""
````{exercise} The closed form in code
:label: ou-ex-vp-forward

Write `vp_forward(x0, i, eps, betas)` that returns
$x_i = \sqrt{\abar_i}\,x_0 + \sqrt{1 - \abar_i}\,\varepsilon$ for $i \in \{0, \dots, n\}$. Here `betas`
is a 1-D tensor holding $\beta_1, \dots, \beta_n$ (so $\beta_j$ is `betas[j - 1]`), and `x0`,
`eps` are tensors of the same shape. Do not use `ddpm_lib`. Put your answer in the cell
tagged `solution` (it holds our reference answer, hidden in the rendered book) and run
the cell after it: `check("ou-ex-vp-forward", vp_forward)` tests it and names the usual
mistakes (an off-by-one index, a missing square root, forgetting $\abar_0 = 1$, a sign
error, using $e^{-t_i}$ in place of $\abar_i$).
````

````{solution} ou-ex-vp-forward
:class: dropdown

$\abar_i$ is the product of the first $i$ factors $1 - \beta_j$, which is
`torch.prod(1 - betas[:i])`; for $i = 0$ the slice is empty and the product is 1, so
$x_0$ comes back unchanged. The reference code is in the (hidden) cell below.
````
""")

code(r"""
def vp_forward(x0, i, eps, betas):
    # x_i = sqrt(abar_i) x0 + sqrt(1 - abar_i) eps, abar_i = (1 - beta_1) ... (1 - beta_i), abar_0 = 1
    alpha_bar = torch.prod(1 - betas[:i])
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * eps
""", tags=["solution", "hide-input"])

code(r"""
feedback = check("ou-ex-vp-forward", vp_forward)
print(feedback)
assert feedback.passed
""")

md(r"""
````{exercise} Hitting a target $\abar_n$
:label: ou-ex-target

You want a constant schedule, $\beta_i = \beta$ for all $i$, with $n = 1000$ steps and
$\abar_n = 10^{-4}$. Find $\beta$ exactly, and compare it with the answer of the OU clock,
$\beta \approx t_n / n$ with $e^{-t_n} = 10^{-4}$. Which is larger, and why?
````

````{solution} ou-ex-target
:class: dropdown

Exactly: $(1 - \beta)^n = 10^{-4}$, so $\beta = 1 - 10^{-4/n} \approx 0.00917$. The OU clock
asks for $t_n = 4\ln 10 \approx 9.21$, so $\beta \approx 0.00921$. The clock answer is
slightly larger: by {prf:ref}`ou-thm-clock-bound`, $\log(1 - \beta) < -\beta$, so each VP
step shrinks $\abar$ a little *more* than $e^{-\beta}$ does, and fewer "time units" are
needed to reach the same $\abar_n$. The relative difference is about $\beta/2 \approx 0.5\%$.
````
""")

code(r"""
beta_exact = 1 - 1e-4 ** (1 / 1000)
beta_clock = 4 * math.log(10) / 1000
const = Schedule(torch.full((1000,), beta_exact))
print(f"exact beta = {beta_exact:.3g}, OU-clock beta = {beta_clock:.3g}")
verify.close("exercise-target-abar", float(const.alpha_bars[-1]), 1e-4, "the constant schedule beta = 1 - 1e-4^(1/n) "
             "reaches abar_n = 1e-4", rtol=1e-9, why="float64 round-off in a product of 1000 factors")
verify.holds("exercise-clock-beta-larger", beta_exact < beta_clock < beta_exact * (1 + beta_exact),
             "the OU-clock beta is larger than the exact one, by a relative amount below beta")
""")

md(r"""
````{exercise} Euler–Maruyama is not variance preserving
:label: ou-ex-em-variance

One Euler–Maruyama step of size $h$ for the OU process is $x' = (1 - h/2)\,x + \sqrt{h}\,\xi$.
Find the variance $v^*$ that this step leaves unchanged, and compare with the VP step with
$\beta = h$. Which one has the right stationary law, and why does it matter that the two
agree to first order in $h$ but not exactly?
````

````{solution} ou-ex-em-variance
:class: dropdown

The fixed point solves $v^* = (1 - h/2)^2 v^* + h$, so
$v^* = h / (h - h^2/4) = 1/(1 - h/4) = 1 + h/4 + O(h^2)$. The VP step leaves $v = 1$
unchanged exactly ({prf:ref}`ou-prop-vp`). Both are first-order schemes for the same SDE,
so both converge as $h \to 0$; but for a fixed step size only the VP step has exactly the
right stationary law $\N(0, 1)$. Euler–Maruyama run for a long time settles on a Gaussian
that is slightly too wide.
````
""")

code(r"""
h_sym, v_star = sp.symbols("h v^*", positive=True)
em_step = (1 + F.ou_drift(sp.Integer(1)) * h_sym) * x + sp.sqrt(h_sym) * e1      # x + f(x) h + sqrt(h) xi, f linear
fixed = sp.solve(sp.Eq(v_star, sp.diff(em_step, x)**2 * v_star + sp.diff(em_step, e1)**2), v_star)
verify.symbolic_equal("exercise-em-stationary-variance", fixed[0], 1 / (1 - h_sym / 4),
                      "the Euler-Maruyama step of size h leaves the variance 1/(1 - h/4) unchanged, not 1")
""")

code(r"""
_ = verify.summary(expected=40)
""")


if __name__ == "__main__":
    main("ou_forward")
