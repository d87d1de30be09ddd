"""Build book/reverse_sde.ipynb (unexecuted) from the cells below.

    python scripts/build_notebooks/reverse_sde.py
    jupyter nbconvert --to notebook --execute --inplace book/reverse_sde.ipynb

The cells live here as Python strings so that the chapter can be regenerated and diffed.
"""
from __future__ import annotations

from _nb import code, main, md


# ---------------------------------------------------------------------------------------
md(r"""
# The reverse-time SDE

*Runs in about 35 s on a laptop CPU (one thread). No GPU is used.*

The forward process of the previous chapter, $\mathrm{d}x = -\tfrac12 x\,\mathrm{d}t + \mathrm{d}W$,
carries the data distribution $p_0$ to a distribution $p_T$ that is almost $\N(0, I)$.
To *generate* data we need the opposite: a process that starts from $\N(0, I)$ and whose
law at backward time $t'$ is $p_{T - t'}$, so that it ends at $p_0$. This chapter finds that
process, twice, and then runs it.

1. **Through Langevin dynamics.** A Langevin step for $p_t$ changes nothing. Split it into a
   forward OU step and a remainder; since the forward step moves $p_t$ to $p_{t+\mathrm{d}t}$,
   the remainder must move $p_{t+\mathrm{d}t}$ back. The remainder is the reverse SDE.
2. **Through the Fokker–Planck equation** {cite}`anderson1982reverse`, for any drift $f(x, t)$
   and noise level $\sigma(t)$: reversing time in the equation for $p_t$ and rewriting it as a
   Fokker–Planck equation again gives the drift $-f + \sigma^2 \nabla\log p_t$.
3. **The discrete backward update** of the VP chain is one step of this SDE up to $O(\beta^2)$;
   we keep track of its indices, and measure what an off-by-one index costs.
4. **Numerics**: with the exact score of a 2-D Gaussian mixture, the reverse SDE turns
   $\N(0, I)$ into the mixture; we measure how well and how fast in the step count, and
   watch a drift with the wrong sign fail.

Every step of mathematics is followed by a code cell that checks it; a passing check prints
a line starting with ✔ and a failing one stops the notebook. The symbolic checks call the
formula functions of `ddpm_lib` (`ou_drift`, `ou_mean_scale`, …), and the numerical ones run
its samplers, so an error in the library would stop this page too.
""")

code(r"""
import math

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
import torch

from ddpm_lib import forward as F
from ddpm_lib import linear_schedule, scaled_linear_schedule, verify
from ddpm_lib.exercises import check
from ddpm_lib.metrics import noise_floor, sliced_wasserstein
from ddpm_lib.mixtures import GaussianMixture, bimodal_1d, ring_mixture
from ddpm_lib.notebook import setup
from ddpm_lib.samplers import discrete_backward, reverse_sde_euler

g = setup("The reverse-time SDE")   # one thread, float64, fixed seeds; g is a seeded torch.Generator
""")

# ---------------------------------------------------------------------------------------
md(r"""
## What "reverse" means

Everything in this chapter happens coordinate by coordinate or is linear in the density, so
the derivations are written in one dimension, where the bookkeeping is clearest.

:::{prf:definition} Fokker–Planck operator
:label: rsde-def-fp

For the SDE $\mathrm{d}x = b(x, t)\,\mathrm{d}t + \sqrt{D(t)}\,\mathrm{d}W$ in one dimension
(drift $b$, noise variance $D$ per unit time), the density $p_t$ of $x_t$ solves
$\partial_t p_t = \mathcal{L}_{b, D}\, p_t$ with the **Fokker–Planck operator**

$$
\mathcal{L}_{b, D}\, p = -\partial_x (b\, p) + \tfrac12 D\, \partial_x^2 p .
$$

:::

:::{prf:definition} A reverse process
:label: rsde-def-reverse

Let $p_t$, $t \in [0, T]$, be the marginal densities of the forward process. A process
$y_{t'}$, $t' \in [0, T]$, is a **reverse process** if its density at backward time $t'$ is
$q_{t'} = p_{T - t'}$ for every $t'$. Then $y_0 \sim p_T \approx \N(0, I)$ and $y_T \sim p_0$.
:::

Reversal is a statement about *laws*, not about individual paths: a sample of the reverse
process is not a forward path played backwards, it is a fresh path whose distribution at each
time matches. We check everything below on a Gaussian $p_0 = \N(m, v)$ with symbolic $m$ and
$v$, whose diffused density is known in closed form,
$p_t = \N\!\left(e^{-t/2} m,\; e^{-t} v + 1 - e^{-t}\right)$; the next cell builds it from the
library's `ou_mean_scale` and `ou_variance` and confirms that it solves the forward equation.
""")

code(r"""
x, t, tp, T = sp.symbols("x t t' T", real=True)
m = sp.Symbol("m", real=True)
v = sp.Symbol("v", positive=True)


def fokker_planck(b, D, p):
    # L_{b,D} p = -d/dx (b p) + (1/2) D d^2p/dx^2   (drift b, noise variance D per unit time)
    return -sp.diff(b * p, x) + D * sp.diff(p, x, 2) / 2


def gaussian_pdf(mean, var):
    return sp.exp(-(x - mean) ** 2 / (2 * var)) / sp.sqrt(2 * sp.pi * var)


p_t = gaussian_pdf(F.ou_mean_scale(t) * m, F.ou_mean_scale(t) ** 2 * v + F.ou_variance(t))
score_t = sp.diff(sp.log(p_t), x)                     # s(x, t) = d/dx log p_t(x)
g_ou = F.ou_diffusion()                              # dx = f dt + g dW with f = ou_drift, g = 1

verify.symbolic_zero("forward-fp", sp.diff(p_t, t) - fokker_planck(F.ou_drift(x), g_ou**2, p_t),
                     "p_t = N(e^{-t/2} m, e^{-t} v + 1 - e^{-t}) solves the forward Fokker-Planck equation")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Derivation 1: a Langevin step is a forward step plus a backward step

Freeze the forward time at $t$ and run **Langevin dynamics** for $p_t$ on a separate clock $\tau$:

$$
\mathrm{d}x_\tau = s(x_\tau, t)\,\mathrm{d}\tau + \sqrt{2}\,\mathrm{d}W_\tau,
\qquad s(x, t) = \partial_x \log p_t(x).
$$

It leaves $p_t$ unchanged: $\mathcal{L}_{s, 2}\, p_t = -\partial_x(p_t\, \partial_x \log p_t) + \partial_x^2 p_t
= -\partial_x^2 p_t + \partial_x^2 p_t = 0$, because $p\,\partial_x \log p = \partial_x p$. This
holds for *any* smooth positive density, which the next cell checks with an undefined SymPy
function $p(x)$. The factor $\sqrt2$ is essential: with noise $\mathrm{d}W$ the invariant law
would be $\propto p_t^2$, not $p_t$, and the second check shows that variant failing.
""")

code(r"""
p_any = sp.Function("p", positive=True)(x)
s_any = sp.diff(sp.log(p_any), x)
verify.symbolic_zero("langevin-invariant", fokker_planck(s_any, 2, p_any),
                     "Langevin dynamics dx = s dtau + sqrt(2) dW leaves any smooth positive density p unchanged")
with verify.wrong_variant("langevin-without-sqrt2", "Langevin with noise dW (not sqrt(2) dW) leaves p unchanged"):
    verify.symbolic_zero("langevin-without-sqrt2", fokker_planck(s_any, 1, p_any), "Langevin without sqrt(2)")
""")

md(r"""
Now take one Langevin step of length $\mathrm{d}\tau = \mathrm{d}t$. Its increment has mean
$s\,\mathrm{d}t$ and variance $2\,\mathrm{d}t$. Write the noise $\sqrt2\,\mathrm{d}W$ as the sum
$\mathrm{d}W^{(1)} + \mathrm{d}W^{(2)}$ of two independent Brownian increments of variance
$\mathrm{d}t$ each, and split the drift as $s = -\tfrac12 x + (\tfrac12 x + s)$:

$$
\underbrace{s\,\mathrm{d}t + \sqrt{2}\,\mathrm{d}W}_{\text{Langevin for } p_t}
= \underbrace{-\tfrac12 x\,\mathrm{d}t + \mathrm{d}W^{(1)}}_{\text{forward OU step}}
+ \underbrace{\left(\tfrac12 x + s(x, t)\right)\mathrm{d}t + \mathrm{d}W^{(2)}}_{\text{remainder}} .
$$

Why $\mathrm{d}\tau = \mathrm{d}t$? The first piece must be exactly an OU step over
$\mathrm{d}t$, noise variance $\mathrm{d}t$ included, so the Langevin noise variance
$2\,\mathrm{d}\tau$ must be at least $\mathrm{d}t$; with $\mathrm{d}\tau = \mathrm{d}t$ the
remainder gets the other $\mathrm{d}t$ of variance. (Other choices are possible; we come back
to them after {prf:ref}`rsde-thm-anderson`.) The cell checks that drifts and variances add up,
with the forward pieces taken from the library.
""")

code(r"""
dt = sp.Symbol("dt", positive=True)
s = sp.Symbol("s", real=True)          # the value of the score s(x, t) at the current point
langevin_mean, langevin_var = s * dt, 2 * dt                     # d tau = dt
forward_mean, forward_var = F.ou_drift(x) * dt, g_ou**2 * dt
remainder_mean, remainder_var = (x / 2 + s) * dt, 1 * dt

verify.symbolic_equal("split-drift", forward_mean + remainder_mean, langevin_mean,
                      "forward drift -x/2 plus remainder drift x/2 + s is the Langevin drift s")
verify.symbolic_equal("split-variance", forward_var + remainder_var, langevin_var,
                      "noise variances dt (forward) + dt (remainder) add up to the Langevin variance 2 dt")
""")

md(r"""
Splitting a step into two pieces is a statement about the generators, and it is exact at
that level: the Fokker–Planck operator is linear in the pair (drift, noise variance),
$\mathcal{L}_{b_1 + b_2,\, D_1 + D_2} = \mathcal{L}_{b_1, D_1} + \mathcal{L}_{b_2, D_2}$
(checked below for arbitrary functions). That turns the picture into a proof.
""")

code(r"""
b1, b2 = sp.Function("b_1")(x), sp.Function("b_2")(x)
D1, D2 = sp.symbols("D_1 D_2", positive=True)
verify.symbolic_equal("fp-linear", fokker_planck(b1 + b2, D1 + D2, p_any),
                      fokker_planck(b1, D1, p_any) + fokker_planck(b2, D2, p_any),
                      "the Fokker-Planck operator is additive in (drift, noise variance)")
""")

md(r"""
:::{prf:theorem} The remainder runs the forward process backwards
:label: rsde-thm-split

Let $p_t$ solve the forward equation $\partial_t p_t = \mathcal{L}_{-x/2,\,1}\, p_t$ and
$s = \partial_x \log p_t$. Then

$$
\mathcal{L}_{x/2 + s,\; 1}\; p_t = -\,\partial_t p_t .
$$

Consequently $q(x, t') = p_{T - t'}(x)$ solves $\partial_{t'} q = \mathcal{L}_{x/2 + s(\cdot,\, T - t'),\;1}\, q$:
the **backward process**

$$
\mathrm{d}x_{t'} = \left(\tfrac12 x_{t'} + s(x_{t'},\, T - t')\right)\mathrm{d}t' + \mathrm{d}W_{t'},
\qquad t' \in [0, T],
$$

is a reverse process in the sense of {prf:ref}`rsde-def-reverse`: started from $p_T$, it has law
$p_{T - t'}$ at backward time $t'$.
:::

:::{prf:proof}
By additivity and the invariance of $p_t$ under Langevin dynamics,

$$
0 = \mathcal{L}_{s,\,2}\, p_t = \mathcal{L}_{-x/2,\,1}\, p_t + \mathcal{L}_{x/2 + s,\,1}\, p_t
= \partial_t p_t + \mathcal{L}_{x/2 + s,\,1}\, p_t .
$$

For $q(x, t') = p_{T-t'}(x)$ the chain rule gives
$\partial_{t'} q = -(\partial_t p)_{t = T - t'} = \mathcal{L}_{x/2 + s(\cdot, T - t'),\,1}\, q$. Backward time
runs against forward time, $\mathrm{d}t' = -\mathrm{d}t$, which is why the remainder, read as a
process of its own, advances $t'$ while it *decreases* $t$. If the Fokker–Planck equation
has a unique solution from $q_0 = p_T$ (it does for the smooth, linearly growing drifts of this
book), the law of the backward process is $q_{t'} = p_{T - t'}$.
:::

The cell checks the identity on the Gaussian family, the one place where the proof used a
property of $p_t$ (that it solves the forward equation).
""")

code(r"""
verify.symbolic_zero("remainder-undoes-forward", fokker_planck(x / 2 + score_t, 1, p_t) + sp.diff(p_t, t),
                     "L_{x/2 + s, 1} p_t = -dp_t/dt for the diffused Gaussian: the remainder runs p backwards")
""")

md(r"""
### The split, watched on samples

The theorem says: push samples of $p_t$ forward by the OU process for a time $h$ (they then
follow $p_{t+h}$), then run the remainder process for the same time $h$, and you are back at
$p_t$. The next cell does exactly that for the 1-D bimodal target of the library, with
$t = 0.3$ and $h = 0.5$: the forward part is sampled exactly (`ou_sample`), the backward part
with the library's reverse-SDE sampler in 50 small steps, using the exact score.
""")

code(r"""
bimodal = bimodal_1d()
t_a, h_split, n_split = 0.3, 0.5, 100_000
x_a = bimodal.diffuse(t_a).sample(n_split, generator=g)                     # samples of p_t
x_b = F.ou_sample(x_a, h_split, generator=g)                                # forward OU for time h: p_{t+h}
x_c = reverse_sde_euler(bimodal.score_fn(), x_b, torch.linspace(t_a, t_a + h_split, 51), generator=g)

grid_1d = torch.linspace(-4.5, 5, 400)[:, None]
fig, axes = plt.subplots(1, 3, figsize=(11, 3.1), sharey=True)
panels = [(x_a, t_a, t_a + h_split, "samples of $p_{0.3}$"),
          (x_b, t_a + h_split, t_a, "after forward OU for $h = 0.5$"),
          (x_c, t_a, t_a + h_split, "after the remainder for $h = 0.5$")]
for ax, (xs, tt, other, title) in zip(axes, panels):
    ax.hist(xs[:, 0].numpy(), bins=120, range=(-4.5, 5), density=True, color="tab:blue", alpha=0.45)
    ax.plot(grid_1d[:, 0], bimodal.diffuse(tt).log_prob(grid_1d).exp(), color="k", lw=1.5,
            label=f"exact $p_{{{tt:.1f}}}$")
    ax.plot(grid_1d[:, 0], bimodal.diffuse(other).log_prob(grid_1d).exp(), color="tab:red", lw=1, ls="--",
            label=f"exact $p_{{{other:.1f}}}$")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("$x$")
    ax.legend(fontsize=8, loc="upper left")
axes[0].set_ylabel("density")
plt.tight_layout()
plt.show()
""")

md(r"""
**Figure 1.** Left: samples of $p_{0.3}$ for the bimodal target. Middle: after the forward
OU process for time $0.5$ they follow $p_{0.8}$ (black), visibly flatter than $p_{0.3}$ (red,
dashed). Right: after the remainder process $\mathrm{d}x = (\tfrac12 x + s)\,\mathrm{d}t' + \mathrm{d}W$ for the
same time they follow $p_{0.3}$ again: the two modes sharpen back.
""")

code(r"""
exact_mean = float(bimodal.diffuse(t_a).mean()[0])
exact_var = float(bimodal.diffuse(t_a).covariance()[0, 0])
xc = x_c[:, 0]
var_se = float(((xc - xc.mean()) ** 2).std() / math.sqrt(n_split))
print(f"round trip: mean {float(xc.mean()):.3g} (exact {exact_mean:.3g}), variance {float(xc.var()):.3g} "
      f"(exact {exact_var:.3g})")
verify.within_standard_errors("round-trip-mean", float(xc.mean()), exact_mean, float(xc.std()) / math.sqrt(n_split),
                              "forward OU then the remainder process for the same time returns the mean of p_t")
verify.within_standard_errors("round-trip-variance", float(xc.var()), exact_var, var_se,
                              "forward OU then the remainder process for the same time returns the variance of p_t")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Derivation 2: reversing the Fokker–Planck equation

The second derivation {cite}`anderson1982reverse` needs no Langevin dynamics and works for any
forward SDE $\mathrm{d}x = f(x, t)\,\mathrm{d}t + \sigma(t)\,\mathrm{d}W$ (drift $f$, noise level
$\sigma$; the OU process is $f = -\tfrac12 x$, $\sigma = 1$).

:::{prf:theorem} Reverse-time SDE
:label: rsde-thm-anderson

Let $p_t$ solve $\partial_t p_t = \mathcal{L}_{f,\,\sigma^2}\, p_t$ on $[0, T]$ and let
$s(x, t) = \partial_x \log p_t(x)$. Then $q(x, t') = p_{T - t'}(x)$ solves the Fokker–Planck
equation of

$$
\mathrm{d}x_{t'} = \Bigl[-f(x_{t'}, T - t') + \sigma(T - t')^2\, s(x_{t'}, T - t')\Bigr]\mathrm{d}t'
+ \sigma(T - t')\,\mathrm{d}W_{t'} ,
$$

so this SDE, started from $p_T$, is a reverse process.
:::

:::{prf:proof}
Reversing the clock flips the sign of the time derivative:
$\partial_{t'} q = -(\partial_t p)_{t = T - t'} = \partial_x(f p) - \tfrac12 \sigma^2 \partial_x^2 p$.
A Fokker–Planck equation needs $+\tfrac12\sigma^2\partial_x^2$, so add and subtract it:
$-\tfrac12 \sigma^2 \partial_x^2 p = \tfrac12\sigma^2\partial_x^2 p - \sigma^2 \partial_x^2 p$, and
write $\sigma^2\partial_x^2 p = \partial_x(\sigma^2 p\,\partial_x \log p)$ (using
$p\,\partial_x\log p = \partial_x p$; $\sigma$ does not depend on $x$). Then

$$
\partial_{t'} q = -\partial_x\Bigl[\bigl(-f + \sigma^2 \partial_x \log p\bigr)\, p\Bigr] + \tfrac12 \sigma^2 \partial_x^2 p
= \mathcal{L}_{-f + \sigma^2 s,\; \sigma^2}\; q ,
$$

everything evaluated at $t = T - t'$. This is the Fokker–Planck equation of the stated SDE.
:::

Two signs differ from a naive guess, and both are forced. The forward drift enters with a
**minus** sign because the clock runs the other way. The score term enters with a **plus**
sign and the *full* factor $\sigma^2$ because it has to cancel the forward diffusion (which
keeps spreading $p$ when time is reversed) *and* supply the reverse process's own diffusion:
half of $\sigma^2 s$ undoes the forward spreading, the other half pays for the new noise
$\sigma\,\mathrm{d}W$.

The first check below is the proof itself, done by SymPy for arbitrary functions $p(x, t)$,
$f(x, t)$ and $\sigma(t)$ (the forward equation enters by substituting $\partial_t p$).
""")

code(r"""
f = sp.Function("f")(x, t)
sigma = sp.Function("sigma", positive=True)(t)
p = sp.Function("p", positive=True)(x, t)
s_p = sp.diff(sp.log(p), x)
dp_dt = fokker_planck(f, sigma**2, p)            # the forward equation: dp/dt = L_{f, sigma^2} p
dq_dtp = -dp_dt                                  # q(x, t') = p(x, T - t'): dq/dt' = -dp/dt

verify.symbolic_zero("anderson-general", dq_dtp - fokker_planck(-f + sigma**2 * s_p, sigma**2, p),
                     "for any f(x,t), sigma(t) and p solving the forward equation, p(x, T-t') solves the "
                     "Fokker-Planck equation of drift -f + sigma^2 s, noise sigma")
""")

md(r"""
Next, the same statement on the Gaussian family, differentiating $q(x, t') = p_{T-t'}(x)$ in
$t'$ directly (no substitution), for the OU process with the library's drift. The check then
tries the versions that circulate in the literature and in notes on diffusion models, and
rejects each:

* $+f + \sigma^2 s$: the sign of the forward drift not flipped;
* $-f + \tfrac12 \sigma^2 s$: the score term with half its factor (with noise $\sigma\,\mathrm{d}W$);
* $f - \sigma^2 s$: the drift of the reverse SDE *as written in forward time*,
  $\mathrm{d}x = [f - \sigma^2 s]\,\mathrm{d}t + \sigma\,\mathrm{d}\bar W$ with $\mathrm{d}t < 0$
  {cite}`song2021scorebased`, used with a positive step $\mathrm{d}t'$. That form is correct only
  when time runs backwards; stepping it with $\mathrm{d}t' = -\mathrm{d}t > 0$ flips both signs,
  which gives our drift. Mixing the two conventions is the usual source of sign errors.
""")

code(r"""
q = p_t.subs(t, T - tp)
log_q = sp.expand_log(sp.log(q), force=True)
E = sp.Symbol("E", positive=True)                 # E = e^{-(T - t')/2}


def reverse_residual(drift, noise_var=1):
    # (dq/dt' - L_{drift, noise_var} q) / q, with the drift given in forward time t and evaluated at t = T - t'.
    # Dividing by q > 0 and writing q'/q = (log q)', q''/q = (log q)'' + ((log q)')^2 leaves a rational
    # function of x, m, v and E = e^{-(T - t')/2}, which SymPy simplifies quickly.
    b = drift.subs(t, T - tp)
    dlog = sp.diff(log_q, x)
    res = sp.diff(log_q, tp) - (-sp.diff(b, x) - b * dlog + noise_var * (sp.diff(dlog, x) + dlog**2) / 2)
    res = res.replace(sp.exp, lambda arg: E ** sp.simplify(-2 * arg / (T - tp)))
    return sp.factor(sp.cancel(res))


f_ou = F.ou_drift(x)
verify.symbolic_zero("anderson-ou-gaussian", reverse_residual(-f_ou + g_ou**2 * score_t),
                     "for p_0 = N(m, v), q(x, t') = p_{T-t'}(x) solves the Fokker-Planck equation of "
                     "dx = (-f + s) dt' + dW with f = ou_drift")
wrong = [("reverse-drift-plus-f", f_ou + g_ou**2 * score_t, "drift +f + sigma^2 s (forward drift not negated)"),
         ("reverse-drift-half-score", -f_ou + g_ou**2 * score_t / 2, "drift -f + sigma^2 s / 2 with noise sigma"),
         ("reverse-drift-forward-time-form", f_ou - g_ou**2 * score_t,
          "drift f - sigma^2 s (the forward-time form) stepped with dt' > 0")]
for name, drift, claim in wrong:
    with verify.wrong_variant(name, claim + " gives a reverse process"):
        verify.symbolic_zero(name, reverse_residual(drift), claim)
""")

md(r"""
The theorem is not special to the OU process. For a general linear drift $f = a(t)\,x$ and a
time-dependent noise level $\sigma(t)$ (this covers the VP-SDE of {cite}`song2021scorebased` and
Brownian motion), a Gaussian stays Gaussian, with mean and variance solving
$\mu' = a\mu$ and $V' = 2aV + \sigma^2$. With $a$, $\sigma$, $\mu$ and $V$ left as undefined
functions, the cell checks that this Gaussian solves the forward equation and that its time
reversal solves the equation of the claimed reverse SDE.
""")

code(r"""
a_t = sp.Function("a")(t)
sig_t = sp.Function("sigma", positive=True)(t)
mu_t, V_t = sp.Function("mu")(t), sp.Function("V", positive=True)(t)
p_lin = gaussian_pdf(mu_t, V_t)
moment_odes = {sp.Derivative(mu_t, t): a_t * mu_t, sp.Derivative(V_t, t): 2 * a_t * V_t + sig_t**2}
dp_lin_dt = sp.diff(p_lin, t).subs(moment_odes)
s_lin = sp.diff(sp.log(p_lin), x)

verify.symbolic_zero("linear-forward", dp_lin_dt - fokker_planck(a_t * x, sig_t**2, p_lin),
                     "N(mu, V) with mu' = a mu, V' = 2 a V + sigma^2 solves the forward equation of "
                     "dx = a(t) x dt + sigma(t) dW")
verify.symbolic_zero("linear-reverse", -dp_lin_dt - fokker_planck(-a_t * x + sig_t**2 * s_lin, sig_t**2, p_lin),
                     "its time reversal solves the equation of dx = (-a x + sigma^2 s) dt' + sigma dW")
""")

md(r"""
### The two derivations agree

For the OU process, $-f + \sigma^2 s = \tfrac12 x + s$: the remainder of the Langevin split is
Anderson's reverse SDE.
""")

code(r"""
verify.symbolic_equal("derivations-agree", -F.ou_drift(x) + F.ou_diffusion()**2 * s, x / 2 + s,
                      "Anderson's drift -f + sigma^2 s is the Langevin-split drift x/2 + s for the OU process")
""")

md(r"""
:::{prf:remark} A family of reverse processes
:label: rsde-rem-family

The reverse process is not unique. Repeating the proof of {prf:ref}`rsde-thm-anderson` with
noise variance $D \ge 0$ instead of $\sigma^2$ (split $-\tfrac12\sigma^2\partial_x^2 p$ as
$\tfrac12 D\,\partial_x^2 p - \tfrac12(\sigma^2 + D)\,\partial_x^2 p$) gives the drift
$-f + \tfrac12(\sigma^2 + D)\, s$. In the Langevin split this is the choice
$\mathrm{d}\tau = \lambda\,\mathrm{d}t$ with $\lambda \ge \tfrac12$: the remainder has drift
$\tfrac12 x + \lambda s$ and noise variance $(2\lambda - 1)\,\mathrm{d}t$, i.e.
$D = 2\lambda - 1$. The choice $D = \sigma^2$ ($\lambda = 1$) is the reverse SDE; $D = 0$
($\lambda = \tfrac12$) is a deterministic ODE with drift $-f + \tfrac12\sigma^2 s$, the
*probability-flow ODE* of a later chapter. So "$\tfrac12\sigma^2 s$" is not wrong in itself; it is
wrong *together with* the noise $\sigma\,\mathrm{d}W$, which is the variant rejected above.
:::
""")

code(r"""
D = sp.Symbol("D", nonnegative=True)
verify.symbolic_zero("reverse-family", dq_dtp - fokker_planck(-f + (sigma**2 + D) / 2 * s_p, D, p),
                     "for every noise variance D >= 0, drift -f + (sigma^2 + D)/2 s reverses the forward process")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## The discrete backward update and its indices

The VP chain of DDPM {cite}`ho2020denoising` reads the forward step $x_i = \sqrt{1 - \beta_i}\,x_{i-1} + \sqrt{\beta_i}\,\varepsilon$
as an OU step of length $\beta_i$, so the chain sits at forward times
$t_i = \beta_1 + \dots + \beta_i$ (the notation page). Its backward counterpart is

:::{prf:definition} Discrete backward update
:label: rsde-def-discrete

For $i = n, n-1, \dots, 1$,

$$
x_{i-1} = \frac{x_i + \beta_i\, s(x_i, t_i)}{\sqrt{1 - \beta_i}} + \sqrt{\beta_i}\; z_i,
\qquad z_i \sim \N(0, I),
$$

started from $x_n \sim \N(0, I)$. Step $i$ reads the point $x_i$, which lives at forward
time $t_i$; it uses the step size $\beta_i$ and the score at $t_i$, and it lands at
$t_{i-1} = t_i - \beta_i$. In backward time it advances $\mathrm{d}t' = \beta_i$. (The library's
`discrete_backward` adds no noise at the very last step, $i = 1$, as DDPM does; that changes
the output by one step's noise, $O(\beta_1)$.)
:::

Expanding in $\beta$ at fixed $x$ and $s$,

$$
\frac{x + \beta s}{\sqrt{1 - \beta}} = x + \beta\left(\tfrac12 x + s\right) + O(\beta^2),
$$

so the update is an Euler–Maruyama step $x + (\tfrac12 x + s)\,\mathrm{d}t' + \sqrt{\mathrm{d}t'}\,z$ of
the reverse SDE with $\mathrm{d}t' = \beta_i$, up to $O(\beta_i^2)$: the factor
$1/\sqrt{1-\beta_i}$ undoes the forward shrinking and supplies the $\tfrac12 x$ of the drift.
The cell checks the expansion, the bookkeeping $t_i - t_{i-1} = \beta_i$ on the library's
schedule, and that with the noise prediction $\varepsilon = -\sqrt{1 - \abar_i}\, s$ the update
is DDPM's sampling step with $\sigma_i^2 = \beta_i$.
""")

code(r"""
beta, abar = sp.symbols("beta abar", positive=True)
update_mean = (x + beta * s) / sp.sqrt(1 - beta)
print("series:", sp.series(update_mean, beta, 0, 3))
verify.symbolic_equal("discrete-first-order", sp.series(update_mean, beta, 0, 2).removeO(), x + beta * (x / 2 + s),
                      "(x + beta s)/sqrt(1 - beta) = x + beta (x/2 + s) + O(beta^2): an Euler step of the reverse SDE")

sched = linear_schedule(1000)
verify.close("discrete-time-bookkeeping", sched.times[1:] - sched.times[:-1], sched.betas[1:],
             "step i moves the forward time from t_i to t_{i-1} = t_i - beta_i, so dt' = beta_i",
             atol=1e-15, why="float64 round-off of a cumulative sum of 1000 terms of size <= 0.02")

eps_pred = -sp.sqrt(1 - abar) * s
ddpm_mean = (x - beta / sp.sqrt(1 - abar) * eps_pred) / sp.sqrt(1 - beta)
verify.symbolic_equal("discrete-is-ddpm-mean", ddpm_mean, update_mean,
                      "with eps = -sqrt(1 - abar_i) s, DDPM's mean (x - beta/sqrt(1-abar) eps)/sqrt(alpha) is "
                      "(x + beta s)/sqrt(1 - beta)")
""")

md(r"""
### The off-by-one trap

The arrays of a `Schedule` are indexed by step number (`betas[i]` is $\beta_i$, `times[i]` is
$t_i$, entry 0 is the data), and step $i$ uses entry $i$ of both. Two slips are common when
code mixes 0-based loops with 1-based quantities:

* **score at $t_{i-1}$**: the score is evaluated at the time the step *lands on*, not the time
  of the point it holds (a loop `for k in reversed(range(n))` reading `times[k]` with `x` $= x_{k+1}$);
* **$\beta_{i+1}$ paired with $x_i$**: the step size of the neighbouring step (reading a
  0-based array of $\beta_1..\beta_n$ with the 1-based step number).

How much does it matter? Per step, the first slip changes the update by
$\beta_i\,[s(x, t_{i-1}) - s(x, t_i)]/\sqrt{1 - \beta_i} = -\beta_i^2\,\partial_t s + O(\beta_i^3)$,
which the next cell checks by series expansion; the second changes it by
$(\beta_{i+1} - \beta_i)(\tfrac12 x + s) + O(\beta^2)$, and for the linear schedule
$\beta_{i+1} - \beta_i = (\beta_n - \beta_1)/(n - 1)$ is itself $O(\beta/n)$. Both are
$O(\beta^2)$ per step, so summed over $n \sim T/\beta$ steps they shift the result by
$O(\beta)$: the **same order** as the discretisation error of the correct update. The slips do
not break convergence as $n \to \infty$, but they change the constant in front of the
first-order error, so at coarse step counts they cost accuracy. Two places make them worse than
that: the score at $t_{i-1}$ evaluates, at the last step, the score at $t_0 = 0$ — the score of
the data itself, which for images (or any data without a smooth density) does not exist, and a
network trained on $i \ge 1$ has never seen; and near $t = 0$ the score changes fastest in $t$,
so $\partial_t s$ above is largest exactly where the last steps are taken.
""")

code(r"""
S0, S1, t_i = sp.symbols("S_0 S_1 t_i", real=True)   # s(x, t_i) and its time derivative at fixed x
s_at = lambda tt: S0 + S1 * (tt - t_i)                # the score near t_i, to first order in time
step_mean = lambda tt: (x + beta * s_at(tt)) / sp.sqrt(1 - beta)
trap_change = sp.series(step_mean(t_i - beta) - step_mean(t_i), beta, 0, 3).removeO()
verify.symbolic_equal("trap-per-step", trap_change, -beta**2 * S1,
                      "evaluating the score at t_{i-1} = t_i - beta changes one step by -beta^2 ds/dt + O(beta^3)")
""")

md(r"""
To measure the effect without Monte Carlo noise, take a Gaussian target $p_0 = \N(1, 0.3^2)$
(the size of one mode of the 2-D target below). Its score is linear in $x$, so every update
above maps a Gaussian to a Gaussian and the mean and variance of $x_0$ follow from a two-line
recursion — exact numbers for each variant, which the cell first checks against the library's
`discrete_backward` on 400,000 samples. We start the chain at the exact $p_{t_n}$, so the only
error is the discretisation, and measure it by the 2-Wasserstein distance between Gaussians,
$W_2 = \sqrt{(\mu - m)^2 + (\sqrt{V} - \sqrt{v})^2}$. The schedules are the linear schedule of
DDPM rescaled to $n$ steps, $\beta$ from $10^{-4}\cdot 1000/n$ to $0.02\cdot 1000/n$
(`scaled_linear_schedule`), so that $t_n \approx 10$ for every $n$.
""")

code(r"""
m0, v0 = 1.0, 0.3**2
gauss_target = GaussianMixture(torch.ones(1), torch.tensor([[m0]]), torch.tensor([[[v0]]]))


def p_moments(tt):
    # mean and variance of p_t for p_0 = N(m0, v0), from the library's OU formulas
    a = F.ou_mean_scale(tt)
    return a * m0, a * a * v0 + F.ou_variance(tt)


def w2_gauss(mean, var):
    return math.hypot(mean - m0, math.sqrt(var) - math.sqrt(v0))


def chain_moments(schedule, variant="correct"):
    # exact mean and variance of x_0 from the discrete backward chain started at p_{t_n}, score of N(m0, v0)
    betas, times, n = schedule.betas.tolist(), schedule.times.tolist(), schedule.n
    mean, var = p_moments(times[n])
    for i in range(n, 0, -1):
        b, tt = betas[i], times[i]
        if variant == "score at t_{i-1}":
            tt = times[i - 1]
        elif variant == "beta_{i+1} with x_i":
            b = betas[min(i + 1, n)]            # the buggy code we imitate reuses beta_n at i = n
        mt, vt = p_moments(tt)                  # s(x, tt) = -(x - mt) / vt
        A, c = (1 - b / vt) / math.sqrt(1 - b), b * mt / vt / math.sqrt(1 - b)
        mean, var = A * mean + c, A * A * var + (b if i > 1 else 0.0)
    return mean, var


sch25 = scaled_linear_schedule(25)
n_mc = 400_000
m_n, v_n = p_moments(float(sch25.times[-1]))
x_start = m_n + math.sqrt(v_n) * torch.randn(n_mc, 1, generator=g)
x_lib = discrete_backward(gauss_target.score_fn(), sch25, x_start, generator=g)[:, 0]
mean_rec, var_rec = chain_moments(sch25)
print(f"n = 25: recursion mean {mean_rec:.4g}, variance {var_rec:.4g}; "
      f"library sampler mean {float(x_lib.mean()):.4g}, variance {float(x_lib.var()):.4g}")
verify.within_standard_errors("chain-recursion-mean", float(x_lib.mean()), mean_rec, math.sqrt(var_rec / n_mc),
                              "the exact mean recursion matches discrete_backward (Gaussian target, n = 25)")
verify.within_standard_errors("chain-recursion-variance", float(x_lib.var()), var_rec, var_rec * math.sqrt(2 / n_mc),
                              "the exact variance recursion matches discrete_backward (Gaussian target, n = 25)")
""")

code(r"""
variants = ["correct", "score at t_{i-1}", "beta_{i+1} with x_i"]
n_list = [25, 50, 100, 200, 400, 1000]
chain_err = {vname: np.array([w2_gauss(*chain_moments(scaled_linear_schedule(n), vname)) for n in n_list])
             for vname in variants}
print("W2 error of x_0 (Gaussian target, exact recursion)")
print("    n  " + "  ".join(f"{vname:>20s}" for vname in variants))
for k, n in enumerate(n_list):
    print(f"{n:5d}  " + "  ".join(f"{chain_err[vname][k]:20.3g}" for vname in variants))
chain_slopes = {vname: np.polyfit(np.log(n_list), np.log(chain_err[vname]), 1)[0] for vname in variants}
print("fitted orders:", ", ".join(f"{vname}: {-sl:.3g}" for vname, sl in chain_slopes.items()))

fig, ax = plt.subplots(figsize=(6, 3.8))
labels = {"correct": "correct update", "score at t_{i-1}": "score at $t_{i-1}$",
          "beta_{i+1} with x_i": r"$\beta_{i+1}$ with $x_i$"}
for vname, mk in zip(variants, ["o", "s", "^"]):
    ax.loglog(n_list, chain_err[vname], marker=mk, label=f"{labels[vname]} (order {-chain_slopes[vname]:.2f})")
ax.set_xlabel("number of steps $n$")
ax.set_ylabel("$W_2$ error of $x_0$")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
""")

md(r"""
**Figure 2.** The discretisation error of the discrete backward chain for a Gaussian target,
computed exactly, against the number of steps. All three lines fall like $1/n$ (first order),
so neither slip breaks convergence; but both slips sit above the correct update at every
$n$ — by a factor that settles near 2.3 for large $n$ (it is smaller for the score slip at the
coarsest grids, where other errors dominate). A slip costs the accuracy of more than twice as
many steps: the same conclusion as the per-step analysis, $O(\beta^2)$ per step and $O(\beta)$
overall, now with its constant measured.
""")

code(r"""
for vname in variants:
    verify.close(f"chain-order-{vname}", -chain_slopes[vname], 1.0,
                 f"the W2 error of the discrete chain ({vname}) falls at first order in 1/n",
                 atol=0.15, why="a first-order scheme; the fit over n = 25..1000 includes higher-order terms")
ratio = chain_err["score at t_{i-1}"] / chain_err["correct"]
ratio_b = chain_err["beta_{i+1} with x_i"] / chain_err["correct"]
print(f"error ratios, slip / correct: score at t_(i-1) {ratio.min():.3g}..{ratio.max():.3g}, "
      f"beta_(i+1) {ratio_b.min():.3g}..{ratio_b.max():.3g}")
verify.holds("trap-costs-accuracy", bool((ratio > 1.3).all() and (ratio_b > 1.3).all()
                                         and ratio[-1] > 2 and ratio_b[-1] > 2),
             "both index slips raise the discretisation error at every n from 25 to 1000, "
             "by more than a factor 2 at n = 1000")
""")

md(r"""
The same comparison on the 2-D ring mixture used below, now by Monte Carlo with the same
starting points and noise for every variant (common random numbers, so the differences are
not sampling noise), at $n = 25$ steps: the slips raise the sliced Wasserstein distance to the
data visibly. The variants are written out in the cell; the correct one reproduces the library's
`discrete_backward` to round-off.
""")

code(r"""
ring = ring_mixture()
ring_score = ring.score_fn()
n_ring = 10_000
data = ring.sample(n_ring, generator=torch.Generator().manual_seed(1))


def backward_chain(score, schedule, x, generator, variant="correct"):
    betas, times, n = schedule.betas.tolist(), schedule.times.tolist(), schedule.n
    for i in range(n, 0, -1):
        b, tt = betas[i], times[i]
        if variant == "score at t_{i-1}":
            tt = times[i - 1]
        elif variant == "beta_{i+1} with x_i":
            b = betas[min(i + 1, n)]
        x = (x + b * score(x, tt)) / math.sqrt(1 - b)
        if i > 1:
            x = x + math.sqrt(b) * torch.randn(x.shape, generator=generator)
    return x


x_n = torch.randn(n_ring, 2, generator=torch.Generator().manual_seed(2))
ring_swd = {}
for vname in variants:
    out = backward_chain(ring_score, sch25, x_n, torch.Generator().manual_seed(3), vname)
    ring_swd[vname] = sliced_wasserstein(out, data)
    if vname == "correct":
        x_lib25 = discrete_backward(ring_score, sch25, x_n, generator=torch.Generator().manual_seed(3))
        verify.close("chain-matches-library", out, x_lib25, "the written-out update reproduces discrete_backward",
                     atol=1e-10, why="the same noise draws; only the order of floating-point operations differs")
print("SWD to the data at n = 25:", ", ".join(f"{k}: {val:.3g}" for k, val in ring_swd.items()))
verify.less_than("trap-ring", 1.5 * ring_swd["correct"], min(ring_swd["score at t_{i-1}"], ring_swd["beta_{i+1} with x_i"]),
                 "at n = 25 both index slips raise the SWD to the ring data by more than half",
                 why="common random numbers, so the gap is the slips' bias, not sampling noise")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## The reverse SDE at work

Now the real test. The target is the library's ring mixture: eight Gaussians of standard
deviation 0.3 on a circle of radius 3. Its diffused score is known exactly (`score_fn`), so the
only errors are the discretisation, the truncation at $T$ and sampling noise. We start 10,000
points from $\N(0, I)$ at $T = 10$ (then $p_T$ differs from $\N(0, I)$ by
$e^{-T/2} \cdot 3 \approx 0.02$ in the mode positions) and integrate
$\mathrm{d}x = (\tfrac12 x + s(x, T - t'))\,\mathrm{d}t' + \mathrm{d}W$ with the library's
Euler–Maruyama sampler on 1,000 uniform steps down to forward time $t_0 = 10^{-3}$. The run is
split at a few forward times to look at the marginals on the way.
""")

code(r"""
T_end, t_min, n_steps = 10.0, 1e-3, 1000
t_grid = torch.linspace(t_min, T_end, n_steps + 1)
snap_times = [10.0, 2.0, 0.5, 0.1, t_min]
snap_idx = [int(torch.argmin((t_grid - ts).abs())) for ts in snap_times]
x_snap = [torch.randn(n_ring, 2, generator=torch.Generator().manual_seed(4))]
gen_run = torch.Generator().manual_seed(5)
for j_hi, j_lo in zip(snap_idx[:-1], snap_idx[1:]):
    x_snap.append(reverse_sde_euler(ring_score, x_snap[-1], t_grid[j_lo:j_hi + 1], generator=gen_run))
samples = x_snap[-1]

# a few whole paths for the picture
paths = reverse_sde_euler(ring_score, torch.randn(12, 2, generator=torch.Generator().manual_seed(6)), t_grid,
                          generator=torch.Generator().manual_seed(7), return_path=True)     # (1001, 12, 2)
t_back = (T_end - t_grid.flip(0)).numpy()                                                   # t' along the path


def x_marginal(tt, xs):
    # exact density of the first coordinate of p_t: a 1-D mixture
    d = ring.diffuse(tt)
    mu, var = d.means[:, 0], d.covariances[:, 0, 0]
    dens = torch.exp(-(xs[:, None] - mu) ** 2 / (2 * var)) / torch.sqrt(2 * math.pi * var)
    return dens @ d.weights


fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
ax = axes[0]
ax.scatter(data[:3000, 0], data[:3000, 1], s=1, color="0.8")
late = int(np.searchsorted(t_back, 8.0))                  # index of t' = 8 along the path
for k in range(6):
    line, = ax.plot(paths[:late + 1, k, 0], paths[:late + 1, k, 1], lw=0.4, alpha=0.35)
    ax.plot(paths[late:, k, 0], paths[late:, k, 1], lw=1.2, color=line.get_color())
    ax.plot(paths[0, k, 0], paths[0, k, 1], "o", color="k", ms=4)
    ax.plot(paths[-1, k, 0], paths[-1, k, 1], "*", color="tab:red", ms=9)
ax.set_aspect("equal")
ax.set_title("6 paths: start (dots) to end (stars); bold after $t' = 8$", fontsize=10)
ax = axes[1]
xs = torch.linspace(-4.5, 4.5, 200)
t_img = np.linspace(0, T_end - t_min, 120)
img = torch.stack([x_marginal(T_end - tb, xs) for tb in t_img]).T.numpy()
ax.imshow(img, origin="lower", aspect="auto", extent=[0, T_end, -4.5, 4.5], cmap="Greys", vmax=np.quantile(img, 0.99))
for k in range(paths.shape[1]):
    ax.plot(t_back, paths[:, k, 0], lw=0.7)
ax.set_xlabel("backward time $t' = T - t$")
ax.set_ylabel("first coordinate")
ax.set_title("paths over the exact density of the first coordinate of $p_{T-t'}$", fontsize=10)
plt.tight_layout()
plt.show()
""")

md(r"""
**Figure 3.** Left: six paths of the reverse SDE in the plane, from their start in
$\N(0, I)$ (black dots) to their end (red stars) on the modes of the ring (grey: data); the
last two units of backward time are drawn bold. Right: the first coordinate of twelve paths
against backward time, over the exact density of that
coordinate under $p_{T - t'}$ (dark = high). The paths wander like noise for most of the
time and commit to a mode only in the last unit or so of backward time, when the density
splits into its modes.
""")

code(r"""
fig, axes = plt.subplots(1, len(snap_times), figsize=(13, 2.8), sharey=False)
for ax, ts, xsn in zip(axes, snap_times, x_snap):
    ax.hist(xsn[:, 0].numpy(), bins=80, range=(-4.5, 4.5), density=True, color="tab:blue", alpha=0.5)
    ax.plot(xs, x_marginal(ts, xs), color="k", lw=1.3)
    ax.set_title(f"$t = {ts:g}$, $t' = {T_end - ts:.3g}$", fontsize=9)
    ax.set_xlabel("first coordinate")
axes[0].set_ylabel("density")
plt.tight_layout()
plt.show()
""")

md(r"""
**Figure 4.** Histograms of the first coordinate of the 10,000 reverse-SDE samples at five
forward times (from the start at $t = T = 10$ to the end at $t = 10^{-3}$), against the exact
density of that coordinate under $p_t$ (black). At every time the samples follow the exact
diffused marginal, which is what {prf:ref}`rsde-def-reverse` asks of a reverse process; the
last panel shows the four distinct $x$-positions of the eight modes.
""")

md(r"""
How close is "close"? Two finite samples of the *same* law are at a nonzero distance, so we
compare the sliced Wasserstein distance (SWD) between the generated points and 10,000 data
points with the **noise floor**: the SWD between two independent data samples of the same size
(mean over 8 repeats).
""")

code(r"""
floor_mean, floor_std = noise_floor(lambda k, gen: ring.sample(k, generator=gen), n_ring, repeats=8,
                                    generator=torch.Generator().manual_seed(8))
swd_sde = sliced_wasserstein(samples, data)
print(f"noise floor {floor_mean:.3g} +- {floor_std:.3g};  reverse SDE, 1000 steps: SWD {swd_sde:.3g}")
verify.less_than("sde-recovers-ring", swd_sde, 1.5 * floor_mean,
                 "the reverse SDE with the exact score turns N(0, I) into the ring mixture (1000 steps)",
                 why="SWD within 1.5 x the noise floor of two data samples of the same size")
""")

md(r"""
### A drift with the wrong sign

Flip the sign of the $\tfrac12 x$ term, $\mathrm{d}x = (-\tfrac12 x + s)\,\mathrm{d}t' + \mathrm{d}W$ —
the forward drift copied into the reverse equation, without the minus sign of
{prf:ref}`rsde-thm-anderson`. The library's sampler computes $\tfrac12 x + s$, so feeding it
the "score" $s(x, t) - x$ runs exactly this wrong SDE.
""")

code(r"""
wrong_sign = reverse_sde_euler(lambda xx, tt: ring_score(xx, tt) - xx, x_snap[0], t_grid,
                               generator=torch.Generator().manual_seed(5))
swd_wrong = sliced_wasserstein(wrong_sign, data)
print(f"drift -x/2 + s: SWD {swd_wrong:.3g} ({swd_wrong / floor_mean:.3g} x the noise floor); "
      f"mean radius {float(wrong_sign.norm(dim=1).mean()):.3g} (data {float(data.norm(dim=1).mean()):.3g})")
with verify.wrong_variant("wrong-sign-drift", "the reverse SDE with drift -x/2 + s recovers the ring mixture"):
    verify.less_than("wrong-sign-drift", swd_wrong, 1.5 * floor_mean, "drift -x/2 + s recovers the data",
                     why="SWD within 1.5 x the noise floor")

fig, axes = plt.subplots(1, 2, figsize=(9, 4.2), sharex=True, sharey=True)
for ax, pts, title in [(axes[0], samples, r"drift $\frac{1}{2} x + s$ (correct)"),
                       (axes[1], wrong_sign, r"drift $-\frac{1}{2} x + s$ (wrong sign)")]:
    ax.scatter(data[:, 0], data[:, 1], s=1, color="0.8")
    ax.scatter(pts[:3000, 0], pts[:3000, 1], s=1, color="tab:blue")
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=10)
plt.tight_layout()
plt.show()
""")

md(r"""
**Figure 5.** 3,000 generated points (blue) over the data (grey). Left: the reverse SDE
puts the points on the eight modes with the right spread. Right: with the wrong sign of the
$\tfrac12 x$ term the points are pulled towards the origin all along the way. The score still
leads them to the eight modes, but they end on the inner side of each, on a ring of mean
radius about 2.5 instead of 3, and too tightly bunched: the SWD is about nine times the noise
floor.
""")

md(r"""
### Error against the number of steps

Euler–Maruyama has *weak* order 1: the error of expectations falls like the step size. To see
that without Monte Carlo noise we return to the Gaussian target $\N(1, 0.3^2)$, for which the
Euler–Maruyama map is affine and the mean and variance of its output follow an exact
recursion. We start from the exact $p_T$ (so the truncation at $T$ plays no part), run $n$
uniform steps from $T = 10$ down to $t_0 = 10^{-3}$, and measure the $W_2$ distance of the
output law to $p_{t_0}$. The recursion is first checked against the library's
`reverse_sde_euler` at $n = 10$ on 400,000 samples.
""")

code(r"""
def em_moments(n, T=T_end, t0=t_min):
    # exact mean and variance after n Euler-Maruyama steps of the reverse SDE, Gaussian target, start at p_T
    grid = torch.linspace(t0, T, n + 1).tolist()
    mean, var = p_moments(grid[-1])
    for j in range(n, 0, -1):
        hh, tt = grid[j] - grid[j - 1], grid[j]
        mt, vt = p_moments(tt)                      # x <- x + h (x/2 - (x - mt)/vt) + sqrt(h) z
        A, c = 1 + hh / 2 - hh / vt, hh * mt / vt
        mean, var = A * mean + c, A * A * var + hh
    return mean, var


m_T, v_T = p_moments(T_end)
x_T = m_T + math.sqrt(v_T) * torch.randn(n_mc, 1, generator=g)
x_em = reverse_sde_euler(gauss_target.score_fn(), x_T, torch.linspace(t_min, T_end, 11), generator=g)[:, 0]
mean_em, var_em = em_moments(10)
print(f"n = 10: recursion mean {mean_em:.4g}, variance {var_em:.4g}; "
      f"library sampler mean {float(x_em.mean()):.4g}, variance {float(x_em.var()):.4g}")
verify.within_standard_errors("em-recursion-mean", float(x_em.mean()), mean_em, math.sqrt(var_em / n_mc),
                              "the exact mean recursion matches reverse_sde_euler (Gaussian target, n = 10)")
verify.within_standard_errors("em-recursion-variance", float(x_em.var()), var_em, var_em * math.sqrt(2 / n_mc),
                              "the exact variance recursion matches reverse_sde_euler (Gaussian target, n = 10)")
""")

code(r"""
em_n = [10, 20, 40, 80, 160, 320, 640, 1280]
m_t0, v_t0 = p_moments(t_min)
em_err = np.array([math.hypot(mm - m_t0, math.sqrt(vv) - math.sqrt(v_t0)) for mm, vv in map(em_moments, em_n)])
fit_from = 2                                        # fit on n >= 40, past the coarsest, pre-asymptotic grids
em_slope, em_icpt = np.polyfit(np.log(em_n[fit_from:]), np.log(em_err[fit_from:]), 1)
print("n:       ", "  ".join(f"{n:8d}" for n in em_n))
print("W2 error:", "  ".join(f"{e:8.3g}" for e in em_err))
print(f"fitted order (n >= 40): {-em_slope:.3g}")

fig, ax = plt.subplots(figsize=(6, 3.8))
ax.loglog(em_n, em_err, "o-", label="Euler–Maruyama, exact $W_2$ error")
nn = np.array(em_n[fit_from:], dtype=float)
ax.loglog(nn, np.exp(em_icpt) * nn ** em_slope, "k--", lw=1, label=f"fit: order {-em_slope:.2f}")
ax.set_xlabel("number of steps $n$")
ax.set_ylabel("$W_2$(output, $p_{t_0}$)")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
""")

md(r"""
**Figure 6.** The exact $W_2$ error of the Euler–Maruyama reverse SDE for the Gaussian target
against the number of uniform steps, on log–log axes. The points lie on a line of slope $-1$:
halving the step size halves the error, the weak order 1 of Euler–Maruyama. Most of the error
is made in the last steps, where the score of $p_t$ changes fastest with $t$; grids that are
finer near $t = 0$ (used by practical samplers) shrink the constant, not the order.
""")

code(r"""
verify.close("em-weak-order", -em_slope, 1.0, "the W2 error of Euler-Maruyama for the reverse SDE falls at order 1 in 1/n",
             atol=0.1, why="weak order 1 of Euler-Maruyama; the fit over n = 40..1280 is past the pre-asymptotic range")
""")

md(r"""
## Summary

* A Langevin step for $p_t$ is a forward OU step plus a remainder with drift
  $\tfrac12 x + s$ and noise $\mathrm{d}W$; because the Fokker–Planck operator is additive and
  Langevin leaves $p_t$ alone, the remainder undoes the forward step: it is the reverse SDE.
* Reversing the Fokker–Planck equation directly gives, for any $f$ and $\sigma$, the drift
  $-f + \sigma^2 \nabla\log p_t$ with noise $\sigma\,\mathrm{d}W$ in backward time. The signs
  are forced; $+f$, or half the score term with the full noise, do not reverse anything.
  Trading noise for score ($D$ in {prf:ref}`rsde-rem-family`) gives a family of reverse
  processes, with the probability-flow ODE at $D = 0$.
* The discrete backward update is the reverse SDE's Euler step up to $O(\beta^2)$. Step $i$
  uses $\beta_i$ and the score at $t_i$; an off-by-one index costs $O(\beta^2)$ per step and
  $O(\beta)$ overall — first order still, but about twice the error of the correct update.
* With the exact score, the reverse SDE reaches the noise floor on a 2-D mixture at 1,000
  steps, with a first-order error in the step count. The next chapters replace the exact score
  by a learned one.
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Exercises

````{exercise} Reversing Brownian motion
:label: rsde-ex-brownian

Let $\mathrm{d}x = \mathrm{d}W$ (so $f = 0$, $\sigma = 1$), started at $x_0 \sim \N(0, v)$.
Write down $p_t$, its score, and the reverse SDE on $[0, T]$ given by
{prf:ref}`rsde-thm-anderson`. Then show directly that its variance, started at $v + T$,
is $v + T - t'$ at backward time $t'$. What happens to the drift as $v \to 0$ near $t' = T$?
````

````{solution} rsde-ex-brownian
:class: dropdown

$p_t = \N(0, v + t)$, so $s(x, t) = -x/(v + t)$ and the reverse SDE is

$$
\mathrm{d}x = -\frac{x}{v + T - t'}\,\mathrm{d}t' + \mathrm{d}W .
$$

For a linear SDE $\mathrm{d}x = a(t')x\,\mathrm{d}t' + \mathrm{d}W$ the variance solves
$V' = 2aV + 1$. With $a = -1/(v + T - t')$ the function $V = v + T - t'$ gives
$V' = -1$ and $2aV + 1 = -2 + 1 = -1$: it is the solution from $V(0) = v + T$, and
$V(T) = v$. As $v \to 0$ the drift $-x/(T - t')$ blows up at $t' = T$: the reverse process of
Brownian motion started at a point is the *Brownian bridge*, which is pinned to $0$ at the
end. The same blow-up of the score near $t = 0$ is why samplers stop at a small $t_0 > 0$.
````
""")

code(r"""
vb, Tb = sp.symbols("v_b T_b", positive=True)
V_rev = vb + Tb - tp
a_rev = -(1 / (vb + Tb - tp))                       # drift coefficient: sigma^2 * score of N(0, v + T - t') / x
p_bm = gaussian_pdf(0, vb + t)
verify.symbolic_zero("exercise-bm-forward", sp.diff(p_bm, t) - fokker_planck(0, 1, p_bm),
                     "N(0, v + t) solves the Fokker-Planck equation of dx = dW")
verify.symbolic_equal("exercise-bm-score", (sp.diff(sp.log(p_bm), x) / x).subs(t, Tb - tp), a_rev,
                      "the reverse drift of Brownian motion from N(0, v) is -x/(v + T - t')")
verify.symbolic_equal("exercise-bm-variance", sp.diff(V_rev, tp), 2 * a_rev * V_rev + 1,
                      "V(t') = v + T - t' solves the variance equation V' = 2aV + 1 of the reverse SDE")
""")

md(r"""
````{exercise} One discrete backward step in code
:label: rsde-ex-backward-step

Write `backward_step(x, z, i, schedule, score)` that returns one step of the discrete
backward chain, $x_{i-1} = (x_i + \beta_i\, s(x_i, t_i))/\sqrt{1 - \beta_i} + \sqrt{\beta_i}\, z$.
Here `x` holds $x_i$ (shape `(batch, d)`), `z` the noise of the same shape, `i` the step
number in $\{1, \dots, n\}$, `schedule` a `ddpm_lib.Schedule` (so $\beta_i$ is
`schedule.betas[i]` and $t_i$ is `schedule.times[i]`), and `score(x, t)` the score at forward
time `t`. Always add the noise (the caller passes `z = 0` where it wants none). The reference
answer is in the cell tagged `solution`; `check("rsde-ex-backward-step", backward_step)`
tests yours, with the noise off and on, and names the usual mistakes: the sign of the score
term, the score at $t_{i-1}$, $\beta_{i\pm1}$ in place of $\beta_i$, $\beta$ or $\sqrt{2\beta}$
in place of $\sqrt\beta$ in front of the noise, multiplying by $\sqrt{1-\beta_i}$, and the
Euler–Maruyama step in place of the discrete update.
````

````{solution} rsde-ex-backward-step
:class: dropdown

Read $\beta_i$ and $t_i$ at index `i`, evaluate the score at the point you hold, divide the
deterministic part by $\sqrt{1 - \beta_i}$ and add $\sqrt{\beta_i}\,z$. The reference code is
in the (hidden) cell below.
````
""")

code(r"""
def backward_step(x, z, i, schedule, score):
    beta = float(schedule.betas[i])          # beta_i: the step that takes x_i to x_{i-1}
    t_i = float(schedule.times[i])           # x_i lives at forward time t_i
    return (x + beta * score(x, t_i)) / math.sqrt(1 - beta) + math.sqrt(beta) * z
""", tags=["solution", "hide-input"])

code(r"""
feedback = check("rsde-ex-backward-step", backward_step)
print(feedback)
assert feedback.passed
""")

md(r"""
````{exercise} The reverse of the VP-SDE and the change of clock
:label: rsde-ex-vp

Song et al. {cite}`song2021scorebased` write the forward process as the VP-SDE
$\mathrm{d}x = -\tfrac12 \beta(t)\,x\,\mathrm{d}t + \sqrt{\beta(t)}\,\mathrm{d}W$ with a
positive rate $\beta(t)$. (a) Write down its reverse SDE with {prf:ref}`rsde-thm-anderson`.
(b) With the clock $u(t) = \int_0^t \beta(r)\,\mathrm{d}r$ the VP-SDE is our OU process in the
time $u$. Show that the reverse drift is $\beta(t)$ times the OU reverse drift
$\tfrac12 x + s$, and explain why that is exactly what a change of clock should do to a drift
(and what it does to the noise).
````

````{solution} rsde-ex-vp
:class: dropdown

(a) With $f = -\tfrac12\beta(t)x$ and $\sigma^2 = \beta(t)$,

$$
\mathrm{d}x = \beta(T - t')\left[\tfrac12 x + s(x, T - t')\right]\mathrm{d}t' + \sqrt{\beta(T - t')}\,\mathrm{d}W .
$$

(b) The drift is $\beta(t)\,(\tfrac12 x + s)$: the OU reverse drift times $\mathrm{d}u/\mathrm{d}t = \beta$.
Running a process on the clock $u(t)$ multiplies a drift by $\mathrm{d}u/\mathrm{d}t$ and a noise
*variance* by $\mathrm{d}u/\mathrm{d}t$ too (a Brownian motion observed on the clock $u$ has
increments of variance $\mathrm{d}u = \beta\,\mathrm{d}t$), so the noise level is $\sqrt\beta$.
Here $s$ is the score of the marginal at time $t$, which is the OU marginal at time $u(t)$.
````
""")

code(r"""
beta_t = sp.Function("beta", positive=True)(t)
drift_vp = -(-beta_t * x / 2) + sp.sqrt(beta_t)**2 * s       # -f + sigma^2 s from the theorem
verify.symbolic_equal("exercise-vp-reverse", drift_vp, beta_t * (-F.ou_drift(x) + F.ou_diffusion()**2 * s),
                      "the reverse VP-SDE drift is beta(t) times the OU reverse drift x/2 + s")
""")

md(r"""
````{exercise} Trading noise for score
:label: rsde-ex-family

By {prf:ref}`rsde-rem-family`, for the OU process every
$\mathrm{d}x = (\tfrac12 x + \lambda s)\,\mathrm{d}t' + \sqrt{2\lambda - 1}\,\mathrm{d}W$ with
$\lambda \ge \tfrac12$ is a reverse process. Run it on the ring mixture for $\lambda = \tfrac12$
(no noise) and $\lambda = 2$ (more noise than the reverse SDE) with Euler–Maruyama steps on
`t_grid`, and compare the SWD to the data with the noise floor. Which $\lambda$ needs the most
steps, and why?
````

````{solution} rsde-ex-family
:class: dropdown

At 1,000 steps both stay within 1.5 times the noise floor (the cell below), but
$\lambda = 2$ is visibly worse (about 1.3 times the floor, against below the floor for
$\lambda = \tfrac12$). Large $\lambda$ means a strong pull $\lambda s$ towards high density,
balanced by strong noise; an explicit step is accurate only while $\lambda h$ is small
compared with the squared width of the modes ($0.3^2$ here), so large $\lambda$ needs the
most steps. Small $\lambda$ injects little or no noise, so the sampler does not "forget" its
earlier errors; for a smooth target like this one that is harmless, and $\lambda = \tfrac12$
(the probability-flow ODE, a later chapter) with a higher-order integrator is the cheapest
member of the family.
````
""")

code(r"""
def lambda_family(score, x, grid, lam, generator):
    grid = grid.tolist()
    for j in range(len(grid) - 1, 0, -1):
        hh, tt = grid[j] - grid[j - 1], grid[j]
        x = x + hh * (0.5 * x + lam * score(x, tt))
        if lam > 0.5:
            x = x + math.sqrt((2 * lam - 1) * hh) * torch.randn(x.shape, generator=generator)
    return x


for lam in (0.5, 2.0):
    out = lambda_family(ring_score, x_snap[0], t_grid, lam, torch.Generator().manual_seed(9))
    swd_lam = sliced_wasserstein(out, data)
    print(f"lambda = {lam:g}: SWD {swd_lam:.3g} (noise floor {floor_mean:.3g})")
    verify.less_than(f"exercise-family-{lam:g}", swd_lam, 1.5 * floor_mean,
                     f"the reverse process with lambda = {lam:g} recovers the ring mixture (1000 steps)",
                     why="SWD within 1.5 x the noise floor")
""")

code(r"""
verify.summary(expected=41);
""")


if __name__ == "__main__":
    main("reverse_sde")
