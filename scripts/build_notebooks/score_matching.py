"""Build book/score_matching.ipynb from the cells below.

    python scripts/build_notebooks/score_matching.py             # write the notebook, unexecuted
    python scripts/build_notebooks/score_matching.py --execute   # and run it in place

The cells live here as Python strings so that the chapter can be regenerated and diffed.
"""
from __future__ import annotations

from _nb import code, main, md

# ---------------------------------------------------------------------------------------
md(r"""
# Denoising score matching and training

*Runs in about RUNTIME s on a laptop CPU (one thread), training included. No GPU is used: training is pinned to the CPU so that every printed number reproduces; pass `device="auto"` to `TrainConfig` to train on a GPU when there is one.*

The reverse process needs the score $s_i(x) = \nabla \log p_i(x)$ of every noisy marginal
$p_i$, and for real data nobody knows it. What we *can* do is take a data point $x_0$, add
noise $\varepsilon$ to it, and ask a network to guess the noise back. This chapter explains
why that simple regression, the loss of DDPM {cite}`ho2020denoising`, learns exactly the
score, and then trains a small network with it and looks at what came out.

1. **The noise is a score.** For a single data point the added noise is, up to a factor,
   the score of the Gaussian $q(x_i \mid x_0)$.
2. **Averaging the noisy target gives the true score** {cite}`vincent2011connection`:
   $\E[f(x_i)\, s_i(x_i)] = \E[f(x_i)\, \nabla\log q(x_i \mid x_0)]$ for every test function $f$.
   Hence denoising score matching (DSM) and explicit score matching differ by a constant that does not
   depend on the model, so both are minimised by the same network.
3. **Tweedie's formula** {cite}`efron2011tweedie`: the best guess of the clean point is
   $\E[x_0 \mid x_i] = \bigl(x_i + (1 - \abar_i)\, s_i(x_i)\bigr) / \sqrt{\abar_i}$.
4. **A floor you can compute.** For a Gaussian-mixture target the optimal noise predictor is
   known in closed form, so we know the lowest loss any network can reach. We train a network
   and compare its loss with that floor.
5. **Where the sampling error comes from.** Sampling with the exact score shows the error
   caused by using finitely many steps alone; sampling with the trained network on the same
   steps adds the error of what the network learned.
6. **Data without a known score**: the same pipeline on the two-moons data set.

Every step of mathematics is followed by a code cell that checks it, symbolically with SymPy
or by Monte Carlo with a stated tolerance. A passing check prints a line starting with ✔; a
failing one stops the notebook. The symbolic checks call the library's `vp_marginal`, and the
numerical ones run its mixtures, training loop and samplers, so an error in `ddpm_lib` would
stop this page too.
""")

code(r"""
import math

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
import torch

from ddpm_lib import linear_schedule, verify
from ddpm_lib import forward as F
from ddpm_lib.data import make_dataset
from ddpm_lib.exercises import check
from ddpm_lib.metrics import noise_floor, sliced_wasserstein
from ddpm_lib.mixtures import GaussianMixture, bimodal_1d, ring_mixture
from ddpm_lib.models import EpsMLP, count_parameters
from ddpm_lib.notebook import setup
from ddpm_lib.samplers import ddpm_ancestral, on_original_steps
from ddpm_lib.training import TrainConfig, eps_error_by_step, irreducible_loss, train

g = setup("Denoising score matching and training")   # one thread, float64, fixed seeds
""")

# ---------------------------------------------------------------------------------------
md(r"""
## The training objective

We use the discrete VP chain of the notation page: a schedule $\beta_1, \dots, \beta_n$, and
$x_i = \sqrt{\abar_i}\, x_0 + \sqrt{1 - \abar_i}\, \varepsilon$ with $\varepsilon \sim \N(0, I)$
independent of $x_0 \sim p_0$. We write $p_i$ for the law of $x_i$ and $s_i = \nabla \log p_i$ for
its score. The network is an **$\varepsilon$-predictor** $\varepsilon_\theta(x, i)$: given a
noisy point and the step, it guesses the noise that was added.

:::{prf:definition} The denoising loss
:label: dsm-def-loss

For data in $\R^d$ and an $\varepsilon$-predictor $\varepsilon_\theta$, the **denoising loss** is

$$
L_{\mathrm{DSM}}(\theta) = \frac1n \sum_{i=1}^{n} L_i(\theta), \qquad
L_i(\theta) = \frac1d\, \E\,\bigl\|\varepsilon_\theta(x_i, i) - \varepsilon\bigr\|^2,
\qquad x_i = \sqrt{\abar_i}\, x_0 + \sqrt{1 - \abar_i}\, \varepsilon ,
$$

the expectation being over $x_0 \sim p_0$ and $\varepsilon \sim \N(0, I)$. Training estimates it
with minibatches: draw $x_0$ from the data, $i$ uniformly from $\{1, \dots, n\}$ and a fresh
$\varepsilon$, and average the squared error over the batch and the $d$ coordinates (this is
`ddpm_lib.training.dsm_loss`).
:::

The loss never looks at a score. The first step in connecting the two is that, once $x_0$ is
fixed, the noise *is* a score: the score of the Gaussian $q(x_i \mid x_0)$.

:::{prf:proposition} The noise is a conditional score
:label: dsm-prop-noise-score

Given $x_0$, $x_i \sim q(\cdot \mid x_0) = \N\bigl(\sqrt{\abar_i}\, x_0, (1 - \abar_i) I\bigr)$,
whose score is

$$
\nabla_{x_i} \log q(x_i \mid x_0) = -\frac{x_i - \sqrt{\abar_i}\, x_0}{1 - \abar_i}
= -\frac{\varepsilon}{\sqrt{1 - \abar_i}} ,
\qquad\text{so}\qquad \varepsilon = -\sqrt{1 - \abar_i}\; \nabla_{x_i}\log q(x_i \mid x_0).
$$

:::

:::{prf:proof}
The log-density of $\N(\mu, v I)$ is $-\|x - \mu\|^2 / (2v)$ plus a constant; its gradient
is $-(x - \mu)/v$. With $\mu = \sqrt{\abar_i}\,x_0$ and $v = 1 - \abar_i$, substitute
$x_i - \sqrt{\abar_i}\,x_0 = \sqrt{1 - \abar_i}\,\varepsilon$.
:::

The coordinates are independent given $x_0$, so one coordinate suffices. The cell below reads
the mean and the variance of $q(x_i \mid x_0)$ off the library's `vp_marginal`, differentiates
the log-density, and substitutes $x_i$ = `vp_marginal(x0, abar, eps)`. Under a wrong factor,
$\varepsilon = -(1 - \abar_i)\,\nabla\log q$ (the variance in place of the standard deviation,
an easy slip), the check fails.
""")

code(r"""
x, x0, eps, m, u, z = sp.symbols("x x_0 varepsilon m u z", real=True)
abar, sigma = sp.symbols("abar sigma", positive=True)     # 0 < abar < 1, sigma > 0


def gauss_pdf(y, mean, var):
    return sp.exp(-(y - mean)**2 / (2 * var)) / sp.sqrt(2 * sp.pi * var)


cond_mean = F.vp_marginal(x0, abar, 0)                                    # sqrt(abar) x0
cond_var = sp.expand((F.vp_marginal(x0, abar, eps) - cond_mean)**2 / eps**2)  # 1 - abar
cond_score = sp.diff(sp.log(gauss_pdf(x, cond_mean, cond_var)), x)         # d/dx log q(x | x0)
x_i = F.vp_marginal(x0, abar, eps)

verify.symbolic_equal("noise-is-conditional-score", eps,
                      -sp.sqrt(1 - abar) * cond_score.subs(x, x_i),
                      "eps = -sqrt(1 - abar_i) * grad log q(x_i | x_0) at x_i = vp_marginal(x_0, abar_i, eps)")
with verify.wrong_variant("noise-score-variance-factor", "eps = -(1 - abar_i) * grad log q(x_i | x_0)"):
    verify.symbolic_equal("noise-score-variance-factor", eps, -(1 - abar) * cond_score.subs(x, x_i), "")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Why a noisy target teaches the true score

Minimising a squared error $\E\|g(x_i) - Y\|^2$ over functions $g$ of $x_i$ gives the
conditional mean $g(x) = \E[Y \mid x_i = x]$. The denoising loss regresses on
$Y = \varepsilon = -\sqrt{1 - \abar_i}\, \nabla \log q(x_i \mid x_0)$, so its minimiser is
$-\sqrt{1 - \abar_i}$ times the conditional mean of the *conditional* score. The key fact is
that this conditional mean is the *marginal* score.

:::{prf:theorem} The score identity
:label: dsm-thm-identity

Let $p_i(x) = \int q(x \mid x_0)\, p_0(x_0)\, \mathrm{d}x_0$. For every function $f$ of $x_i$
alone (scalar, with $\E|f(x_i)|\,\|s_i(x_i)\| < \infty$),

$$
\E\bigl[f(x_i)\, s_i(x_i)\bigr] = \E\bigl[f(x_i)\, \nabla_{x_i} \log q(x_i \mid x_0)\bigr].
$$

Equivalently, $s_i(x) = \E\bigl[\nabla_{x_i}\log q(x_i \mid x_0) \bigm| x_i = x\bigr]$, and the best
$\varepsilon$-predictor is

$$
\varepsilon^*(x, i) = \E[\varepsilon \mid x_i = x] = -\sqrt{1 - \abar_i}\; s_i(x).
$$

:::

:::{prf:proof}
Differentiate under the integral and use $\nabla q = q\, \nabla \log q$:

$$
s_i(x)\, p_i(x) = \nabla p_i(x) = \int \nabla_x q(x \mid x_0)\, p_0(x_0)\, \mathrm{d}x_0
= \int \nabla_x \log q(x \mid x_0)\; q(x \mid x_0)\, p_0(x_0)\, \mathrm{d}x_0 .
$$

Multiply by $f(x)$ and integrate over $x$: the left side becomes $\E[f(x_i) s_i(x_i)]$, and the
right side is the expectation of $f(x_i)\nabla\log q(x_i \mid x_0)$ under the joint law
$q(x_i \mid x_0)\,p_0(x_0)$ of $(x_0, x_i)$. Since this holds for every $f$, $s_i(x_i)$ is the
conditional expectation of $\nabla\log q(x_i \mid x_0)$ given $x_i$. Multiplying by
$-\sqrt{1 - \abar_i}$ and using {prf:ref}`dsm-prop-noise-score` gives the statement about
$\varepsilon^*$.
:::

The proof uses that $f$ depends on $x_i$ only. A "test function" that also looks at $x_0$
breaks the identity, and we will see it fail below.

### A symbolic check for a Gaussian $p_0$

Take $p_0 = \N(m, \sigma^2)$ in one dimension and write $x_0 = m + \sigma z$ with $z \sim \N(0, 1)$.
All the expectations we need are of the form $\E[\text{polynomial}(z)\, e^{c_2 z^2 + c_1 z + c_0}]$,
which one Gaussian integral gives in closed form:

$$
\E\bigl[e^{c_2 z^2 + B z + c_0}\bigr] = \frac{e^{c_0 + B^2 / (2 - 4 c_2)}}{\sqrt{1 - 2 c_2}}
\quad (c_2 < \tfrac12),
\qquad
\E\bigl[z^k e^{c_2 z^2 + B z + c_0}\bigr] = \frac{\partial^k}{\partial B^k}\, \E\bigl[e^{c_2 z^2 + B z + c_0}\bigr].
$$

The helper below applies this term by term. As test functions we take $f(x) = e^{u x}$ for a
symbol $u$: two laws with the same $\E[e^{u x}]$ for all $u$ are equal, so checking the identity for
this whole family checks it for every $f$. We also confirm that the law of $x_i$ is the Gaussian
$\N\bigl(\sqrt{\abar_i}\, m,\; \abar_i \sigma^2 + 1 - \abar_i\bigr)$, whose score is the left side's $s_i$.
""")

code(r"""
def gaussian_expectation(expr, var):
    # E[expr] for var ~ N(0, 1); expr is a sum of polynomial(var) * exp(quadratic(var)) terms
    B = sp.Dummy("B")
    total = 0
    for term in sp.Add.make_args(sp.expand(sp.powsimp(sp.expand(expr), combine="exp"))):
        exponent, prefactor = 0, 1
        for factor in sp.Mul.make_args(term):
            if isinstance(factor, sp.exp):
                exponent += factor.args[0]
            else:
                prefactor *= factor
        c0, c1, c2 = (sp.Poly(sp.expand(exponent), var).coeff_monomial(var**k) for k in range(3))
        base = sp.exp(c0 + B**2 / (2 - 4 * c2)) / sp.sqrt(1 - 2 * c2)   # E[exp(c2 var^2 + B var + c0)]
        for (k,), coeff in sp.Poly(prefactor, var).terms():
            total += coeff * sp.diff(base, B, k).subs(B, c1)
    return total


xi_sym = F.vp_marginal(m + sigma * z, abar, eps)           # x_i from x_0 = m + sigma z and the noise
marg_mean, marg_var = F.vp_marginal(m, abar, 0), abar * sigma**2 + 1 - abar
mgf = gaussian_expectation(gaussian_expectation(sp.exp(u * xi_sym), eps), z)
verify.symbolic_equal("gaussian-marginal", mgf, sp.exp(u * marg_mean + u**2 * marg_var / 2),
                      "for p_0 = N(m, sigma^2), x_i ~ N(sqrt(abar) m, abar sigma^2 + 1 - abar) (equal MGFs)")

marg_score = lambda y: -(y - marg_mean) / marg_var          # score of that Gaussian
lhs = gaussian_expectation(sp.exp(u * xi_sym) * marg_score(xi_sym), eps)
lhs = gaussian_expectation(lhs, z)
rhs = gaussian_expectation(sp.exp(u * xi_sym) * cond_score.subs(x0, m + sigma * z).subs(x, xi_sym), eps)
rhs = gaussian_expectation(rhs, z)
verify.symbolic_equal("score-identity-gaussian", lhs, rhs,
                      "E[e^{u x_i} s_i(x_i)] = E[e^{u x_i} grad log q(x_i | x_0)] for every u (Gaussian p_0)")
print("both sides equal", sp.simplify(lhs))
""")

md(r"""
Both sides equal $-u\, \E[e^{u x_i}]$, as integration by parts predicts:
$\E[f(x_i)\, s_i(x_i)] = \int f\, p_i' = -\int f'\, p_i = -\E[f'(x_i)]$.

### Seeing the regression

In one dimension the identity can be seen. Draw pairs $(x_0, \varepsilon)$, form $x_i$ and plot the
DSM target $\nabla\log q(x_i \mid x_0) = -\varepsilon/\sqrt{1 - \abar_i}$ against $x_i$: a cloud of
noisy labels. The theorem says that the average label at a given $x_i$ is the marginal score
$s_i(x_i)$. The target is the bimodal mixture `bimodal_1d` (modes at $-2$ and $2$), whose
diffused score `diffuse_discrete(abar).score` is exact.
""")

code(r"""
schedule = linear_schedule(1000)
AB = schedule.alpha_bars                       # AB[i] = abar_i, AB[0] = 1
bimodal = bimodal_1d()

fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
g1 = torch.Generator().manual_seed(1)
for ax, i in zip(axes, (100, 400)):
    a = float(AB[i])
    x0s = bimodal.sample(4000, generator=g1)
    e = torch.randn(x0s.shape, generator=g1)
    xs = math.sqrt(a) * x0s + math.sqrt(1 - a) * e
    target = -e / math.sqrt(1 - a)             # the DSM target grad log q(x_i | x_0)
    ax.scatter(xs[:, 0], target[:, 0], s=2, alpha=0.15, color="C0", label=r"labels $\nabla\log q(x_i|x_0)$")
    edges = torch.linspace(-3.5, 3.5, 29)
    idx = torch.bucketize(xs[:, 0], edges)
    centres, means = [], []
    for b in range(1, len(edges)):
        sel = idx == b
        if sel.sum() > 30:
            centres.append(float(xs[sel, 0].mean()))
            means.append(float(target[sel, 0].mean()))
    ax.plot(centres, means, "o", color="C1", ms=4, label="average label per bin")
    grid = torch.linspace(-3.5, 3.5, 300)[:, None]
    ax.plot(grid[:, 0], bimodal.diffuse_discrete(a).score(grid)[:, 0], "k", lw=1.5, label=r"exact score $s_i$")
    ax.set_ylim(-12, 12)
    ax.set_xlabel("$x_i$")
    ax.set_title(f"i = {i}  (abar_i = {a:.3g})")
axes[0].legend(loc="lower left", fontsize=8)
plt.tight_layout()
plt.show()
""")

md(r"""
**Figure 1.** Noisy regression labels for the bimodal 1-D target at two steps. Each blue dot
is one training pair: its height is the DSM target $-\varepsilon/\sqrt{1 - \abar_i}$, which
depends on the particular noise drawn and spreads over a wide band. The bin averages (orange)
fall on the exact score (black): a regression on these labels can only converge to $s_i$. The
spread of the labels is what the loss can never remove; it becomes the loss floor computed
later in this chapter.

### A Monte Carlo check on a 2-D mixture

For the 2-D target of the rest of the chapter, eight Gaussian modes on a ring of radius 3
(`ring_mixture`), the score $s_i$ is exact too (`eps_fn` gives
$\varepsilon^* = -\sqrt{1 - \abar_i}\, s_i$). We estimate both sides of
{prf:ref}`dsm-thm-identity` on the same 200,000 draws at two steps, for seven test functions: a
constant, the coordinates, a product, a sine, and two indicator functions of regions (an
indicator picks out a region, so equality for all of them means the average label is right in
every region). The check is on the paired difference of the two sides, with its standard error.
""")

code(r"""
ring = ring_mixture()
eps_star = ring.eps_fn(schedule)               # eps*(x, i) = -sqrt(1 - abar_i) s_i(x), exact
test_functions = {
    "1": lambda y: torch.ones_like(y[:, 0]),
    "x1": lambda y: y[:, 0],
    "x2": lambda y: y[:, 1],
    "x1*x2": lambda y: y[:, 0] * y[:, 1],
    "sin(2 x1)": lambda y: torch.sin(2 * y[:, 0]),
    "1{x1>1}": lambda y: (y[:, 0] > 1).double(),
    "1{x1>0,x2>0}": lambda y: ((y[:, 0] > 0) & (y[:, 1] > 0)).double(),
}


def noisy_pairs(i, n, generator):
    # (x_0, eps, x_i) with x_i = vp_marginal(x_0, abar_i, eps)
    x0s = ring.sample(n, generator=generator)
    e = torch.randn(x0s.shape, generator=generator)
    return x0s, e, F.vp_marginal(x0s, AB[i], e)


g2 = torch.Generator().manual_seed(2)
diffs, ses = [], []
for i in (60, 300):
    x0s, e, xs = noisy_pairs(i, 200_000, g2)
    s_true = -eps_star(xs, i) / math.sqrt(1 - AB[i])      # s_i(x_i)
    s_cond = -e / math.sqrt(1 - AB[i])                     # grad log q(x_i | x_0)
    print(f"i = {i}:  {'f':>13}  E[f s_i] (x1, x2)    E[f grad log q] (x1, x2)")
    for name, f in test_functions.items():
        fx = f(xs)[:, None]
        d = fx * (s_true - s_cond)                          # paired difference, per draw
        diffs.append(d.mean(0))
        ses.append(d.std(0) / math.sqrt(len(d)))
        lhs_, rhs_ = (fx * s_true).mean(0), (fx * s_cond).mean(0)
        print(f"        {name:>13}  {lhs_[0]:+8.3f} {lhs_[1]:+8.3f}    {rhs_[0]:+8.3f} {rhs_[1]:+8.3f}")
verify.within_standard_errors("score-identity-ring", torch.stack(diffs), 0.0, torch.stack(ses),
                              "E[f(x_i) s_i(x_i)] = E[f(x_i) grad log q(x_i|x_0)] for 7 test functions at i = 60, 300")
""")

md(r"""
All 28 differences (7 functions, 2 coordinates, 2 steps) are within four standard errors of 0.
Now a "test function" that peeks at the clean point, $f = $ the first coordinate of $x_0$. For
it the two sides differ, as they must: the conditional score carries information about $x_0$
that the marginal score has averaged away.
""")

code(r"""
i = 300
x0s, e, xs = noisy_pairs(i, 200_000, g2)
d = x0s[:, :1] * (-eps_star(xs, i) + e) / math.sqrt(1 - AB[i])
with verify.wrong_variant("score-identity-needs-f-of-x_i", "the identity also holds for f = first coordinate of x_0"):
    verify.within_standard_errors("score-identity-x0", d.mean(0), 0.0, d.std(0) / math.sqrt(len(d)), "")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Denoising score matching is score matching plus a constant

Score matching {cite}`hyvarinen2005estimation` would fit the score directly. In the
$\varepsilon$-parametrisation the natural "explicit" loss compares the prediction with the optimal
$\varepsilon^*$ instead of with the noise that was actually drawn.

:::{prf:definition} The explicit score-matching loss
:label: dsm-def-esm

$$
L_{\mathrm{ESM}}(\theta) = \frac1n \sum_{i=1}^{n} \frac1d\, \E\,\bigl\|\varepsilon_\theta(x_i, i) - \varepsilon^*(x_i, i)\bigr\|^2
= \frac1n \sum_{i=1}^{n} \frac{1 - \abar_i}{d}\; \E\,\bigl\|s_\theta(x_i, i) - s_i(x_i)\bigr\|^2 ,
$$

where $s_\theta = -\varepsilon_\theta / \sqrt{1 - \abar_i}$ is the score the network implies. It is a
score-matching loss with the weight $1 - \abar_i$ on step $i$, the noise variance of that step;
weighting by the noise variance is also the choice of {cite}`song2019generative`. It cannot be
computed for real data, because $s_i$ is unknown.
:::

:::{prf:theorem} DSM = ESM + constant
:label: dsm-thm-dsm-esm

For every $\varepsilon$-predictor $\varepsilon_\theta(x, i)$ that is a function of $(x_i, i)$ only
(and square integrable),

$$
L_{\mathrm{DSM}}(\theta) = L_{\mathrm{ESM}}(\theta) + C, \qquad
C = \frac1n \sum_{i=1}^{n} \frac1d\, \E\,\|\varepsilon - \varepsilon^*(x_i, i)\|^2
= 1 - \frac1n \sum_{i=1}^{n} \frac1d\, \E\,\|\varepsilon^*(x_i, i)\|^2 .
$$

$C$ does not depend on $\theta$. So the two losses have the same minimiser, $\varepsilon^*$, and
the smallest value the DSM loss can take is $C$, the **irreducible loss**.
:::

:::{prf:proof}
Fix $i$ and write $a = \varepsilon_\theta(x_i, i)$, $a^* = \varepsilon^*(x_i, i)$. Then
$\|a - \varepsilon\|^2 - \|a - a^*\|^2 = \|\varepsilon\|^2 - \|a^*\|^2 - 2\, a \cdot (\varepsilon - a^*)$.
The last term has mean 0: $a$ is a function of $x_i$, and by {prf:ref}`dsm-thm-identity`
(applied coordinate by coordinate, with $f$ = each coordinate of $a$)
$\E[a \cdot \varepsilon] = \E[a \cdot a^*]$. The remainder $\E\|\varepsilon\|^2 - \E\|a^*\|^2 = d - \E\|a^*\|^2$ does not
involve $\theta$. Taking $a = a^*$ shows that it also equals $\E\|\varepsilon - a^*\|^2$. Average over $i$.
:::

DSM and ESM are therefore *not* equal: they differ by $C > 0$. This is why a perfectly trained
network still reports a positive training loss, and why "the loss went to zero" would mean
something is wrong. We check the theorem at one step, $i = 150$, for six predictors: the exact
$\varepsilon^*$, three perturbations of it, the zero predictor, and the crude guess
$\varepsilon_\theta(x) = x$ (right for pure noise, wrong here). For each, $L_i^{\mathrm{DSM}} - L_i^{\mathrm{ESM}}$ must be the same
number. The check uses the paired per-draw differences, with standard errors.
""")

code(r"""
i = 150
x0s, e, xs = noisy_pairs(i, 200_000, torch.Generator().manual_seed(3))
e_star = eps_star(xs, i)
predictors = {
    "exact eps*": e_star,
    "eps* + 0.3": e_star + 0.3,
    "1.5 eps*": 1.5 * e_star,
    "eps* + 0.5 sin(x)": e_star + 0.5 * torch.sin(xs),
    "zero": torch.zeros_like(xs),
    "x itself": xs,
}
gap = {}      # per-draw DSM - ESM
print(f"{'predictor':>18}  {'L_DSM':>7}  {'L_ESM':>7}  {'difference':>10}")
for name, a in predictors.items():
    dsm_, esm_ = ((a - e)**2).mean(1), ((a - e_star)**2).mean(1)
    gap[name] = dsm_ - esm_
    print(f"{name:>18}  {dsm_.mean():7.3f}  {esm_.mean():7.3f}  {gap[name].mean():10.4f}")

rel = torch.stack([gap[k] - gap["exact eps*"] for k in predictors if k != "exact eps*"])
verify.within_standard_errors("dsm-minus-esm-constant", rel.mean(1), 0.0, rel.std(1) / math.sqrt(rel.shape[1]),
                              "L_DSM - L_ESM is the same for 5 different predictors as for eps* (step i = 150)")
const = 1 - (e_star**2).mean(1)                                # 1 - |eps*|^2 / d, per draw
pair = gap["exact eps*"] - const
verify.within_standard_errors("constant-is-one-minus-eps-star-norm", pair.mean(), 0.0, pair.std() / math.sqrt(len(pair)),
                              "the constant E|eps - eps*|^2/d equals 1 - E|eps*|^2/d")
""")

md(r"""
The constant survives only for predictors that are functions of $x_i$. A "predictor" that is
allowed to see the clean point, $\varepsilon^* + 0.3\, x_0$, shifts the difference, and the same
check rejects it.
""")

code(r"""
cheat = e_star + 0.3 * x0s
gap_cheat = ((cheat - e)**2).mean(1) - ((cheat - e_star)**2).mean(1) - gap["exact eps*"]
with verify.wrong_variant("dsm-esm-needs-functions-of-x_i", "a predictor that sees x_0 has the same DSM - ESM gap"):
    verify.within_standard_errors("dsm-esm-cheat", gap_cheat.mean(), 0.0, gap_cheat.std() / math.sqrt(len(gap_cheat)), "")
""")

md(r"""
Along any line of predictors $\varepsilon^* + c\, h$ both losses are parabolas in $c$, the same
parabola shifted by $C$:
""")

code(r"""
cs = torch.linspace(-1, 1, 41)
h = torch.sin(xs) + 0.3
dsm_c = [float(((e_star + c * h - e)**2).mean()) for c in cs]
esm_c = [float(((c * h)**2).mean()) for c in cs]
C_i = float(((e_star - e)**2).mean())
fig, ax = plt.subplots(figsize=(6.4, 3.4))
ax.plot(cs, dsm_c, label=r"$L_i^{\mathrm{DSM}}$ (against the drawn noise)")
ax.plot(cs, esm_c, label=r"$L_i^{\mathrm{ESM}}$ (against $\varepsilon^*$)")
ax.plot(cs, np.array(esm_c) + C_i, "k:", label=r"$L_i^{\mathrm{ESM}} + C_i$")
ax.axhline(C_i, color="gray", lw=0.8)
ax.set_xlabel(r"$c$ in the predictor $\varepsilon^* + c\,(\sin x + 0.3)$")
ax.set_ylabel("loss per coordinate")
ax.legend(fontsize=8)
plt.show()
print(f"C_150 = {C_i:.3g}")
""")

md(r"""
**Figure 2.** The two losses at step $i = 150$ along a line of predictors through $\varepsilon^*$
($c = 0$). The DSM curve is the ESM curve lifted by the constant $C_{150}$ (dotted line on top of
it): same shape, same minimiser. The gray line marks $C_{150}$, the lowest DSM loss at this step.

## Tweedie's formula: the denoiser inside the noise predictor

Knowing the best noise guess is the same as knowing the best clean-point guess, because
$x_0 = (x_i - \sqrt{1 - \abar_i}\,\varepsilon)/\sqrt{\abar_i}$ is linear in $\varepsilon$.

:::{prf:theorem} Tweedie's formula
:label: dsm-thm-tweedie

$$
\E[x_0 \mid x_i = x] = \frac{x + (1 - \abar_i)\, s_i(x)}{\sqrt{\abar_i}}
= \frac{x - \sqrt{1 - \abar_i}\, \varepsilon^*(x, i)}{\sqrt{\abar_i}} .
$$

:::

:::{prf:proof}
Take the conditional expectation given $x_i = x$ of
$x_0 = (x_i - \sqrt{1 - \abar_i}\,\varepsilon)/\sqrt{\abar_i}$ and use
$\E[\varepsilon \mid x_i = x] = \varepsilon^*(x, i) = -\sqrt{1 - \abar_i}\, s_i(x)$
({prf:ref}`dsm-thm-identity`).
:::

The formula goes back to Robbins and Tweedie; {cite}`efron2011tweedie` tells its story. For the
Gaussian $p_0 = \N(m, \sigma^2)$ the posterior mean is a ratio of two Gaussian integrals over
$x_0 = m + \sigma z$, $\E[x_0 \mid x_i = x] = \E_z[x_0\, q(x \mid x_0)] / \E_z[q(x \mid x_0)]$.
The denominator is $p_i(x)$ itself, so its log-derivative must be the Gaussian score used above.
We compute both integrals with the same helper and compare with Tweedie. Dividing by $\abar_i$
instead of $\sqrt{\abar_i}$ fails. The last check writes the result in the form of Gaussian
conditioning, a shrinkage of $x$ towards the prior mean, which we use next.
""")

code(r"""
q_cond = lambda y, x0_: gauss_pdf(y, F.vp_marginal(x0_, abar, 0), 1 - abar)      # q(x_i = y | x_0)
numerator = gaussian_expectation((m + sigma * z) * q_cond(x, m + sigma * z), z)
p_i = gaussian_expectation(q_cond(x, m + sigma * z), z)
score_i = sp.diff(sp.log(p_i), x)

verify.symbolic_equal("gaussian-marginal-score", score_i, marg_score(x),
                      "d/dx log E_z[q(x | m + sigma z)] = -(x - sqrt(abar) m)/(abar sigma^2 + 1 - abar)")
verify.symbolic_equal("tweedie-gaussian", numerator / p_i, (x + (1 - abar) * score_i) / sp.sqrt(abar),
                      "E[x_0 | x_i = x] = (x + (1 - abar) s_i(x)) / sqrt(abar) for p_0 = N(m, sigma^2)")
with verify.wrong_variant("tweedie-wrong-denominator", "E[x_0 | x_i = x] = (x + (1 - abar) s_i(x)) / abar"):
    verify.symbolic_equal("tweedie-abar", numerator / p_i, (x + (1 - abar) * score_i) / abar, "")
gain = sp.sqrt(abar) * sigma**2 / marg_var
verify.symbolic_equal("tweedie-is-gaussian-conditioning", numerator / p_i, m + gain * (x - marg_mean),
                      "for p_0 = N(m, sigma^2): E[x_0 | x_i = x] = m + sqrt(abar) sigma^2 / (abar sigma^2 + 1 - abar) (x - sqrt(abar) m)")
""")

md(r"""
For the ring mixture there is an independent route to $\E[x_0 \mid x_i]$. Given the component $k$,
$x_0$ and $x_i$ are jointly Gaussian, and with $\Sigma_k = \sigma_k^2 I$ the formula just checked gives
$\E[x_0 \mid x_i, k] = \mu_k + \frac{\sqrt{\abar_i}\,\sigma_k^2}{\abar_i \sigma_k^2 + 1 - \abar_i}\,(x_i - \sqrt{\abar_i}\,\mu_k)$.
Averaging over $k$ with the posterior weights $P(k \mid x_i)$ of the diffused mixture
(`diffuse_discrete(abar).responsibilities`) gives the posterior mean without any score. Tweedie with
the exact score (`eps_fn`) must agree to round-off, and, as a second, purely statistical check, the
error $x_0 - \E[x_0 \mid x_i]$ must be uncorrelated with every function of $x_i$. The naive
rescaling $x_i / \sqrt{\abar_i}$ fails that test.
""")

code(r"""
def tweedie(x_noisy, score, a):
    return (x_noisy + (1 - a) * score) / math.sqrt(a)


def posterior_mean_by_components(x_noisy, a):
    r = ring.diffuse_discrete(a).responsibilities(x_noisy)               # (N, K)
    var_k = ring.covariances[:, 0, 0]                                      # sigma_k^2
    gain = math.sqrt(a) * var_k / (a * var_k + 1 - a)                      # (K,)
    m_k = ring.means[None] + gain[None, :, None] * (x_noisy[:, None] - math.sqrt(a) * ring.means[None])
    return (r[:, :, None] * m_k).sum(1)


for i in (20, 100, 300, 600):
    a = float(AB[i])
    _, _, xs = noisy_pairs(i, 20_000, torch.Generator().manual_seed(4))
    score = -eps_star(xs, i) / math.sqrt(1 - a)
    verify.close(f"tweedie-ring-i{i}", tweedie(xs, score, a), posterior_mean_by_components(xs, a),
                 f"Tweedie with the exact score = posterior mean from the responsibilities (i = {i})",
                 atol=1e-9, why="float64 round-off; the two routes share no code")
""")

code(r"""
i = 200
a = float(AB[i])
x0s, e, xs = noisy_pairs(i, 200_000, torch.Generator().manual_seed(5))
denoised = tweedie(xs, -eps_star(xs, i) / math.sqrt(1 - a), a)
fs = torch.stack([f(xs) for f in test_functions.values()], 1)              # (N, 7)


def orthogonality(estimate):
    prod = fs[:, :, None] * (x0s - estimate)[:, None, :]                      # (N, 7, 2)
    return prod.mean(0), prod.std(0) / math.sqrt(len(prod))


mean_, se_ = orthogonality(denoised)
verify.within_standard_errors("tweedie-orthogonality", mean_, 0.0, se_,
                              "E[(x_0 - Tweedie(x_i)) f(x_i)] = 0 for the 7 test functions (i = 200)")
with verify.wrong_variant("naive-rescaling-is-not-posterior-mean", "x_i / sqrt(abar_i) is E[x_0 | x_i]"):
    mean_, se_ = orthogonality(xs / math.sqrt(a))
    verify.within_standard_errors("naive-orthogonality", mean_, 0.0, se_, "")
""")

code(r"""
fig, axes = plt.subplots(1, 3, figsize=(11, 3.8), sharex=True, sharey=True)
data_pts = ring.sample(2000, generator=torch.Generator().manual_seed(6))
for ax, i in zip(axes, (80, 200, 400)):
    a = float(AB[i])
    _, _, xs = noisy_pairs(i, 300, torch.Generator().manual_seed(7))
    den = tweedie(xs, -eps_star(xs, i) / math.sqrt(1 - a), a)
    ax.scatter(data_pts[:, 0], data_pts[:, 1], s=1, color="0.82")
    for p, q in zip(xs[:80], den[:80]):
        ax.plot([p[0], q[0]], [p[1], q[1]], color="0.3", lw=0.6)
    ax.scatter(xs[:, 0], xs[:, 1], s=6, color="C0", label="$x_i$")
    ax.scatter(den[:, 0], den[:, 1], s=6, color="C3", label=r"$\mathbb{E}[x_0 \mid x_i]$")
    ax.set_title(f"i = {i}, 1 - abar_i = {1 - a:.2g}")
    ax.set_aspect("equal")
axes[0].set_xlim(-5, 5)
axes[0].set_ylim(-5, 5)
axes[0].legend(loc="lower left", fontsize=8)
plt.tight_layout()
plt.show()
""")

md(r"""
**Figure 3.** Tweedie's formula at work on the ring (data in gray). Blue: noisy points $x_i$;
red: their posterior means, with a line from each of the first 80 to its denoised version. The
noisy points are shrunk towards the origin by $\sqrt{\abar_i}$ and blurred; the denoiser undoes
both. At small noise ($i = 80$) it pulls each point onto the nearest mode. At moderate noise
($i = 200$) a point between two modes is sent to a compromise between them. At large noise
($i = 400$) the posterior is spread over many modes and its mean lies well inside the ring: the
posterior *mean* is the best guess in squared error, but it is not a sample of $p_0$. This is why
sampling removes noise in many small steps rather than jumping to $\E[x_0 \mid x_n]$.

## Training against a known floor

By {prf:ref}`dsm-thm-dsm-esm`, no network can push the denoising loss below
$C = \frac1n\sum_i \frac1d\E\|\varepsilon - \varepsilon^*\|^2$. For the ring mixture $\varepsilon^*$ is
exact, so $C$ can be estimated by Monte Carlo (`training.irreducible_loss`). We train the library's
`EpsMLP` (three hidden layers of width 128, the step enters through a sinusoidal embedding) on
50,000 draws from the ring with `training.train`: AdamW, batch 256, learning rate
$2\times10^{-3}$, gradient clipping, and an exponential moving average (EMA) of the weights that
we use for evaluation and sampling. 6,000 steps take a few seconds on one CPU thread.
""")

code(r"""
floor, floor_se = irreducible_loss(ring, schedule, 400_000, torch.Generator().manual_seed(8))
print(f"irreducible loss C = {floor:.4f} +- {floor_se:.1g}")

train_data = make_dataset("mixture", 50_000, generator=torch.Generator().manual_seed(1))   # the ring mixture
torch.manual_seed(0)                                           # the network's initial weights
net = EpsMLP(dim=2, n_steps=schedule.n)
print(f"EpsMLP with {count_parameters(net):,} parameters")
config = TrainConfig(steps=6000, batch_size=256, lr=2e-3, ema_decay=0.995, seed=0, device="cpu", log_every=500)
result = train(net, train_data, schedule, config)
model = result.ema_model
""")

md(r"""
The minibatch loss is very noisy, because each batch averages over random steps $i$ whose floors
differ a lot ($C_i$ is close to 1 at small $i$, where the noise is nearly impossible to guess from a
barely noisy point, and close to 0 at large $i$, where $x_i$ is almost the noise itself). We
smooth it with a moving average of 200 steps. For the final number we evaluate the EMA model on
a fixed batch of 200,000 fresh draws $(x_0, i, \varepsilon)$ and compute the loss of $\varepsilon^*$
on the *same* draws: the difference of the two, paired draw by draw, is the excess over the floor,
with a small standard error.
""")

code(r"""
losses = np.array(result.history["loss"])
window = 200
smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
fig, ax = plt.subplots(figsize=(6.4, 3.4))
ax.plot(np.arange(len(losses)), losses, color="C0", alpha=0.15, lw=0.5, label="minibatch loss")
ax.plot(np.arange(window - 1, len(losses)), smooth, color="C0", label=f"moving average ({window} steps)")
ax.axhline(floor, color="k", ls="--", label=f"irreducible loss C = {floor:.3f}")
ax.set_ylim(0.2, 0.6)
ax.set_xlabel("optimizer step")
ax.set_ylabel("DSM loss per coordinate")
ax.legend(fontsize=8)
plt.show()
""")

md(r"""
**Figure 4.** The training loss of the ring model (light: single minibatches; dark: moving
average) against the irreducible loss $C$ (dashed). The loss falls quickly and then creeps towards
the floor; it cannot cross it, and the remaining gap is what the network has not learned.
""")

code(r"""
@torch.no_grad()
def paired_losses(net_, n, generator):
    # per-draw DSM loss of net_ and of the exact eps*, on the same (x_0, i, eps)
    x0s = ring.sample(n, generator=generator)
    steps = torch.randint(1, schedule.n + 1, (n,), generator=generator)
    e = torch.randn(x0s.shape, generator=generator)
    xs = F.vp_marginal(x0s, AB[steps][:, None], e)
    return ((net_(xs, steps) - e)**2).mean(1), ((eps_star(xs, steps) - e)**2).mean(1)


loss_model, loss_star = paired_losses(model, 200_000, torch.Generator().manual_seed(9))
excess = loss_model - loss_star
excess_mean, excess_se = float(excess.mean()), float(excess.std() / math.sqrt(len(excess)))
print(f"final loss {loss_model.mean():.4f}, floor on the same draws {loss_star.mean():.4f}: "
      f"excess {100 * excess_mean / loss_star.mean():.2g} % +- {100 * excess_se / loss_star.mean():.1g} %")

verify.within_standard_errors("floor-two-estimates", float(loss_star.mean()), floor,
                              math.hypot(float(loss_star.std() / math.sqrt(len(loss_star))), floor_se),
                              "the exact eps* on the evaluation batch has the irreducible loss of irreducible_loss()")
verify.holds("cannot-beat-the-floor", excess_mean > -4 * excess_se,
             "the trained model's loss is not below the floor (excess > -4 standard errors)")
verify.less_than("final-loss-near-floor", excess_mean + 4 * excess_se, 0.03 * float(loss_star.mean()),
                 "the trained model's DSM loss is within 3 % of the irreducible loss",
                 why="4-standard-error upper bound on the paired excess; 3 % is the target for 6,000 steps")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## What the network learned

A loss 1–2 % above the floor says little about *where* the network is wrong. Since
$L^{\mathrm{DSM}} - C$ is the ESM loss, the error is $\varepsilon_\theta - \varepsilon^*$, which we can
look at step by step (`training.eps_error_by_step` gives the relative error
$\|\varepsilon_\theta - \varepsilon^*\| / \|\varepsilon^*\|$ over 20,000 draws of $x_i$). Alongside it
we plot the absolute error per coordinate, $\bigl(\E\|\varepsilon_\theta - \varepsilon^*\|^2/d\bigr)^{1/2}$, which
is what the loss sees.
""")

code(r"""
steps_eval = [1, 3, 10, 30, 60, 100, 200, 300, 500, 700, 1000]
rel_err = eps_error_by_step(model, ring, schedule, steps_eval, n=20_000, generator=torch.Generator().manual_seed(10))
abs_err, star_rms = [], []
with torch.no_grad():
    for i in steps_eval:
        _, _, xs = noisy_pairs(i, 20_000, torch.Generator().manual_seed(11))
        abs_err.append(float(((model(xs, i) - eps_star(xs, i))**2).mean().sqrt()))
        star_rms.append(float((eps_star(xs, i)**2).mean().sqrt()))

fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
axes[0].loglog(steps_eval, rel_err, "o-")
axes[0].set_ylabel(r"$\|\varepsilon_\theta - \varepsilon^*\| \,/\, \|\varepsilon^*\|$")
axes[1].loglog(steps_eval, abs_err, "o-", label=r"rms of $\varepsilon_\theta - \varepsilon^*$")
axes[1].loglog(steps_eval, star_rms, "k--", label=r"rms of $\varepsilon^*$")
axes[1].legend(fontsize=8)
for ax in axes:
    ax.set_xlabel("step $i$")
plt.tight_layout()
plt.show()
for i, r_, a_ in zip(steps_eval, rel_err.tolist(), abs_err):
    print(f"i = {i:4d}: relative error {r_:.2g}, absolute {a_:.2g}")
""")

md(r"""
**Figure 5.** Left: relative error of the learned noise predictor by step. Right: the absolute
error (blue) against the size of the target $\varepsilon^*$ itself (dashed). At small $i$ the
relative error is large, above 100 % at the first steps, while the absolute error is small: there
$\varepsilon^*$ is tiny (a barely noisy point says almost nothing about the noise), so the loss,
which sees only absolute errors, has almost nothing to gain there. In the middle range
($30 \le i \le 200$) the relative error is 10–25 %: this is where the modes of $p_i$ are still
separate but blurred, the hardest shape for a small network to get exactly right after 6,000
steps. From $i \approx 300$ on, where $p_i$ has become a single smooth bump, the error is a few percent.

The implied score is $s_\theta = -\varepsilon_\theta/\sqrt{1 - \abar_i}$, so an absolute noise error at
small $i$ becomes a *large* score error, divided by $\sqrt{1 - \abar_i} \approx 0.01$ at $i = 1$. The
samplers multiply the score by a step size of order $\beta_i$, and at the last steps this is small
enough that the error hardly moves the points. The quiver plots show the two score fields.
""")

code(r"""
verify.less_than("eps-accurate-late", rel_err[7:], 0.1,
                 "the learned eps is within 10 % of eps* (relative, over p_i) at every step i >= 300",
                 why="a target for 6,000 training steps")
verify.holds("eps-error-largest-early", bool(rel_err[0] > 3 * rel_err[5:].max()),
             "the relative eps error at i = 1 is more than 3 times larger than at any step i >= 100")
""")

code(r"""
coarse = torch.linspace(-4.2, 4.2, 15)
cx, cy = torch.meshgrid(coarse, coarse, indexing="xy")
arrow_pts = torch.stack([cx.flatten(), cy.flatten()], 1)
fine = torch.linspace(-4.5, 4.5, 150)
fx_, fy_ = torch.meshgrid(fine, fine, indexing="xy")
fine_pts = torch.stack([fx_.flatten(), fy_.flatten()], 1)


def unit(v):
    return v / v.norm(dim=1, keepdim=True)


fig, axes = plt.subplots(2, 3, figsize=(12, 7.6), sharex=True, sharey=True)
with torch.no_grad():
    for col, i in enumerate((30, 150, 500)):
        a = float(AB[i])
        dens = ring.diffuse_discrete(a).log_prob(fine_pts).exp().reshape(150, 150)
        # top: directions of the exact and the learned score (unit arrows)
        ax = axes[0, col]
        ax.contourf(fx_, fy_, dens, levels=10, cmap="Greys", alpha=0.5)
        for fn, colour, label in ((eps_star, "k", "exact score"), (model, "C3", "learned score")):
            v = unit(-fn(arrow_pts, i))                # the score -eps / sqrt(1 - abar) points along -eps
            ax.quiver(arrow_pts[:, 0], arrow_pts[:, 1], v[:, 0], v[:, 1], color=colour, angles="xy",
                      scale_units="xy", scale=2.2, width=0.005, alpha=0.8, label=label)
        ax.set_title(f"i = {i}: directions")
        # bottom: relative error of the learned score on a fine grid, with contours of p_i
        ax = axes[1, col]
        e_exact, e_learned = eps_star(fine_pts, i), model(fine_pts, i)
        rel = ((e_learned - e_exact).norm(dim=1) / e_exact.norm(dim=1)).reshape(150, 150)
        im = ax.pcolormesh(fx_, fy_, rel.log10(), vmin=-2.5, vmax=0.5, cmap="viridis", shading="auto")
        ax.contour(fx_, fy_, dens, levels=[0.01 * float(dens.max()), 0.3 * float(dens.max())], colors="w",
                   linewidths=0.8)
        ax.set_title(f"i = {i}: relative error")
for ax in axes.flat:
    ax.set_aspect("equal")
axes[0, 0].legend(loc="lower left", fontsize=7, framealpha=0.9)
fig.colorbar(im, ax=axes[1].tolist(), shrink=0.8, label=r"$\log_{10}\,\|s_\theta - s_i\| / \|s_i\|$")
plt.show()
""")

md(r"""
**Figure 6.** Top: the directions of the exact (black) and learned (red) score fields at three
steps, over the density of $p_i$ (gray); each arrow has unit length, so the plot compares
directions only. Bottom: the relative error $\|s_\theta - s_i\|/\|s_i\|$ of the learned score on a
fine grid, in $\log_{10}$ (yellow: 100 % or more; dark blue: 1 % or less), with two contours of
$p_i$ (white: 1 % and 30 % of its maximum). The error is largest where the exact score is close
to zero, so that any absolute error is a large relative one: at the centre of each mode, at the
saddles between neighbouring modes and at the centre of the ring. Outside the outer contours (the
middle of the ring and the corners at $i = 30$) the network never sees a training point, and its
errors of 10–30 % there are unconstrained extrapolation: DSM only fits the score where $p_i$ has
mass. The directions still agree (top), because far from the data the score is a simple pull
towards the ring. At $i = 500$ the density covers the window and the error is a few percent almost
everywhere.

## Two sources of sampling error

A sample drawn with a learned model differs from $p_0$ for two reasons: the sampler takes finitely
many steps (*discretisation error*), and it uses $\varepsilon_\theta$ instead of $\varepsilon^*$
(*learning error*). With a mixture target we can separate them: sample once with the exact
$\varepsilon^*$ (discretisation error only) and once with the model, on the same steps.

To vary the number of sampling steps without retraining we **respace** the schedule
{cite}`nichol2021improved`: pick steps $0 = \tau_0 < \tau_1 < \dots < \tau_k = n$ and define a
$k$-step schedule with the same noise levels at those steps,

$$
\abar'_j = \abar_{\tau_j}, \qquad \beta'_j = 1 - \frac{\abar_{\tau_j}}{\abar_{\tau_{j-1}}}, \qquad j = 1, \dots, k .
$$

Its step $j$ has exactly the noise level of the original step $\tau_j$, so both the exact
$\varepsilon^*$ and the network, which were defined or trained on the original steps, are evaluated
at $\tau_j$: `Schedule.respace(k)` returns the $k$-step schedule and the $\tau_j$, and
`samplers.on_original_steps` evaluates a predictor of the original schedule at $\tau_j$.
""")

code(r"""
sub, tau = schedule.respace(20)
verify.close("respaced-noise-levels", sub.alpha_bars, schedule.alpha_bars[tau],
             "the respaced schedule has abar'_j = abar_{tau_j} at every one of its 20 steps",
             rtol=1e-12, why="float64 round-off in a product of 20 ratios")
full, _ = schedule.respace(schedule.n)
verify.close("respacing-all-steps-is-identity", full.betas, schedule.betas,
             "respacing with k = n gives back the original schedule", atol=1e-15, why="float64 round-off")
""")

md(r"""
We sample 4,000 points with DDPM's ancestral sampler (`samplers.ddpm_ancestral`, variance
$\beta'_j$) at $k \in \{5, 10, 20, 50, 100, 250, 1000\}$ steps, from the same starting noise and with
the same random seed for the exact and the learned predictor, and measure the sliced Wasserstein
distance (SWD) to a reference sample of 20,000 fresh draws of the ring. Two finite samples of the
*same* law are not at distance 0, so we also measure the **noise floor**: the SWD between 4,000
fresh draws of $p_0$ and the same reference, repeated ten times. (`metrics.noise_floor` measures the
floor between two samples of equal size; here the reference is larger than the samples, so we
repeat its computation by hand.)

Because the two samplers start from the same noise and use the same random numbers, their outputs
are coupled point by point. The SWD *between* them is then a low-noise measure of the learning
error alone, at each step count.
""")

code(r"""
n_pts = 4000
reference = ring.sample(20_000, generator=torch.Generator().manual_seed(12))
g_floor = torch.Generator().manual_seed(13)
floor_values = [sliced_wasserstein(ring.sample(n_pts, generator=g_floor), reference) for _ in range(10)]
floor_swd, floor_sd = float(np.mean(floor_values)), float(np.std(floor_values, ddof=1))
print(f"SWD noise floor, {n_pts} points against the reference: {floor_swd:.3f} +- {floor_sd:.2g}")

step_counts = [5, 10, 20, 50, 100, 250, 1000]
swd = {"exact": [], "learned": [], "between": []}
for k in step_counts:
    sub, tau = schedule.respace(k)
    outs = {}
    for name, eps_fn in (("exact", eps_star), ("learned", model)):
        x_start = torch.randn(n_pts, 2, generator=torch.Generator().manual_seed(14))
        outs[name] = ddpm_ancestral(on_original_steps(eps_fn, tau), sub, x_start, generator=torch.Generator().manual_seed(15))
        swd[name].append(sliced_wasserstein(outs[name], reference))
    swd["between"].append(sliced_wasserstein(outs["exact"], outs["learned"]))
for k, se_, sl_, sb_ in zip(step_counts, swd["exact"], swd["learned"], swd["between"]):
    print(f"k = {k:4d} steps: SWD to data: exact eps* {se_:.3f}, learned {sl_:.3f};  exact vs learned {sb_:.3f}")
""")

code(r"""
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
ax = axes[0]
ax.semilogx(step_counts, swd["exact"], "o-", color="k", label=r"exact $\varepsilon^*$: discretisation error")
ax.semilogx(step_counts, swd["learned"], "s-", color="C3", label=r"learned $\varepsilon_\theta$: + learning error")
ax.axhspan(floor_swd - 2 * floor_sd, floor_swd + 2 * floor_sd, color="C0", alpha=0.2, label="noise floor ± 2 sd")
ax.axhline(floor_swd, color="C0", lw=1)
ax.set_ylabel("SWD to fresh ring data")
ax.legend(fontsize=8)
axes[1].semilogx(step_counts, swd["between"], "d-", color="C2")
axes[1].set_ylabel("SWD between the two samplers' outputs")
axes[1].set_ylim(0, None)
for ax in axes:
    ax.set_xlabel("sampling steps k")
plt.tight_layout()
plt.show()
""")

md(r"""
**Figure 7.** Error decomposition. Left, black: with the exact noise predictor the only error is
discretisation. It is large at 5 steps and inside the noise floor (blue band) from about 20 steps
on. Left, red: the trained network on the same steps; the gap to the black curve is the learning
error. With few steps discretisation dominates; with many steps both curves sit in the noise
floor, and at 4,000 points the learning error cannot be told apart from sampling noise. Right: the
distance between the coupled outputs of the two samplers isolates the learning error. It is
largest with few steps, where each network error is multiplied by a large step, and levels off as
$k$ grows.
""")

code(r"""
ex, le, bt = np.array(swd["exact"]), np.array(swd["learned"]), np.array(swd["between"])
verify.less_than("discretisation-error-visible", floor_swd + 4 * floor_sd, ex[0],
                 "with 5 steps even the exact score is more than 4 floor sd away from the data",
                 why="the noise floor and its spread over 10 repeats")
verify.less_than("exact-sampler-converges", ex[2:], floor_swd + 4 * floor_sd,
                 "with 20 or more steps the exact-score sampler is within 4 floor sd of the noise floor",
                 why="the noise floor and its spread over 10 repeats")
verify.less_than("learned-sampler-near-floor", le[-1], floor_swd + 4 * floor_sd,
                 "with 1000 steps the trained model's samples are within 4 floor sd of the noise floor",
                 why="the noise floor and its spread over 10 repeats")
verify.less_than("learning-error-below-floor", bt[-1], floor_swd,
                 "with 1000 steps the coupled outputs of the two samplers are closer than two independent exact samples",
                 why="the learning error is smaller than the sampling noise at 4,000 points")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Data without a known score: two moons

For real data there is no $\varepsilon^*$, no floor, and no exact-score sampler to compare with:
only samples. The pipeline is the same. We train a fresh `EpsMLP` on 50,000 points of the
two-moons data set (standardised; `make_dataset("moons")`), sample 4,000 points with the
ancestral sampler on the respaced 250-step schedule, and compare with fresh data through the SWD
and its noise floor. As a control that the metric can tell shapes apart, a Gaussian with the
same mean and covariance as the data fails the same test.
""")

code(r"""
moons = make_dataset("moons", 50_000, generator=torch.Generator().manual_seed(1))
torch.manual_seed(0)
moons_net = EpsMLP(dim=2, n_steps=schedule.n)
moons_result = train(moons_net, moons, schedule, TrainConfig(steps=5000, batch_size=256, lr=2e-3, seed=0,
                                                             device="cpu", log_every=500))
moons_model = moons_result.ema_model

sub, tau = schedule.respace(250)
x_start = torch.randn(n_pts, 2, generator=torch.Generator().manual_seed(16))
moons_samples = ddpm_ancestral(on_original_steps(moons_model, tau), sub, x_start, generator=torch.Generator().manual_seed(17))

draw_moons = lambda n, gen: make_dataset("moons", n, generator=gen, dtype=torch.float64)
moons_ref = draw_moons(n_pts, torch.Generator().manual_seed(18))
moons_floor, moons_floor_sd = noise_floor(draw_moons, n_pts, generator=torch.Generator().manual_seed(19))
moons_swd = sliced_wasserstein(moons_samples, moons_ref)
mean_, cov_ = moons.double().mean(0), torch.cov(moons.double().T)
gaussian_fit = mean_ + torch.randn(n_pts, 2, generator=torch.Generator().manual_seed(20)) @ torch.linalg.cholesky(cov_).T
print(f"SWD noise floor {moons_floor:.3f} +- {moons_floor_sd:.2g}; trained model {moons_swd:.3f}; "
      f"moment-matched Gaussian {sliced_wasserstein(gaussian_fit, moons_ref):.3f}")
verify.less_than("moons-near-floor", moons_swd, moons_floor + 4 * moons_floor_sd,
                 "the trained model's two-moons samples are within 4 floor sd of the SWD noise floor",
                 why="the noise floor and its spread over 5 repeats, 4,000 points")
with verify.wrong_variant("moons-gaussian-control", "a Gaussian with the moons' mean and covariance is as close"):
    verify.less_than("moons-gaussian", sliced_wasserstein(gaussian_fit, moons_ref), moons_floor + 4 * moons_floor_sd,
                     "", why="the same test as above")
""")

code(r"""
fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), sharex=True, sharey=True)
panels = ((moons_ref, "fresh data", "0.4"), (moons_samples, "trained model, 250 steps", "C3"),
          (gaussian_fit, "moment-matched Gaussian", "C0"))
for ax, (pts_, title, colour) in zip(axes, panels):
    ax.scatter(pts_[:, 0], pts_[:, 1], s=1.5, color=colour, alpha=0.5)
    ax.set_title(title)
    ax.set_aspect("equal")
axes[0].set_xlim(-2.6, 2.6)
axes[0].set_ylim(-2.0, 2.0)
plt.tight_layout()
plt.show()
""")

md(r"""
**Figure 8.** Two moons: 4,000 fresh data points (left), 4,000 samples of the trained model
(middle) and 4,000 draws of the Gaussian with the same mean and covariance (right). The model
reproduces the two arcs and the gap between them; a few samples lie in the gap and at the tips,
where the data are thin. The Gaussian has the right first two moments and none of the shape,
and the SWD tells the difference.

## What to remember

* The denoising loss regresses on the noise. For a fixed $x_0$ the noise *is* a score, that of
  $q(x_i \mid x_0)$, with $\varepsilon = -\sqrt{1 - \abar_i}\,\nabla\log q(x_i \mid x_0)$.
* Averaging that noisy target over $x_0$ given $x_i$ gives the marginal score:
  $\varepsilon^*(x, i) = \E[\varepsilon \mid x_i = x] = -\sqrt{1 - \abar_i}\,s_i(x)$.
* DSM = ESM + $C$ with $C > 0$ independent of the model. Same minimiser; the loss floor is $C$,
  not 0. For a mixture $C$ is computable, and a small MLP gets within about 1 % of it in seconds.
* Tweedie: $\E[x_0 \mid x_i] = (x_i + (1 - \abar_i)s_i(x_i))/\sqrt{\abar_i}$. The
  $\varepsilon$-predictor is a denoiser in disguise.
* The learned field is accurate where $p_i$ has mass and unconstrained elsewhere. Its relative
  error is largest at the smallest noise levels.
* Sampling error = discretisation error (visible with the exact score) + learning error (the gap
  to it). Respacing the schedule varies the step count without retraining.
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Exercises

````{exercise} The floor for a Gaussian
:label: dsm-ex-floor-gaussian

Let $p_0 = \N(m, \sigma^2 I)$ in $\R^d$. Show that at step $i$ the irreducible loss per coordinate is

$$
C_i = \frac1d\,\E\|\varepsilon - \varepsilon^*(x_i, i)\|^2 = \frac{\abar_i \sigma^2}{\abar_i \sigma^2 + 1 - \abar_i} .
$$

Interpret the two limits $\abar_i \to 1$ and $\abar_i \to 0$, and the role of $\sigma$.
````

````{solution} dsm-ex-floor-gaussian
:class: dropdown

Per coordinate, $x_i = \sqrt{\abar_i}\,x_0 + \sqrt{1 - \abar_i}\,\varepsilon \sim \N(\sqrt{\abar_i}m, V)$ with
$V = \abar_i\sigma^2 + 1 - \abar_i$, so $s_i(x) = -(x - \sqrt{\abar_i}m)/V$ and
$\varepsilon^* = \sqrt{1 - \abar_i}\,(x_i - \sqrt{\abar_i}m)/V$. By {prf:ref}`dsm-thm-dsm-esm`,
$C_i = 1 - \E[(\varepsilon^*)^2] = 1 - (1 - \abar_i)V/V^2 = 1 - (1 - \abar_i)/V = \abar_i\sigma^2/V$.

As $\abar_i \to 1$ (little noise) $C_i \to 1$: the noise is tiny next to the spread $\sigma$ of the data,
so $x_i$ says almost nothing about it and the best guess is close to 0. As $\abar_i \to 0$ $C_i \to 0$:
$x_i$ is almost the noise itself. For fixed $i$ a wider $p_0$ (larger $\sigma$) hides the noise
better and raises the floor; if $p_0$ is a point mass ($\sigma = 0$) the noise can be read off
exactly and the floor is 0. The cell checks the formula symbolically and against
`irreducible_loss` for a one-component "mixture".
````
""")

code(r"""
xi_g = F.vp_marginal(m + sigma * z, abar, eps)                  # one coordinate of x_i
eps_opt = -sp.sqrt(1 - abar) * marg_score(xi_g)                   # eps* = -sqrt(1 - abar) s_i
C_sym = gaussian_expectation(gaussian_expectation((eps - eps_opt)**2, eps), z)
verify.symbolic_equal("exercise-floor-gaussian", C_sym, abar * sigma**2 / (abar * sigma**2 + 1 - abar),
                      "for p_0 = N(m, sigma^2) the floor at step i is abar sigma^2 / (abar sigma^2 + 1 - abar)")

single = GaussianMixture([1.0], [[1.0, -0.5]], [[[0.25, 0.0], [0.0, 0.25]]])      # N(m, 0.5^2 I)
C_mc, C_mc_se = irreducible_loss(single, schedule, 400_000, torch.Generator().manual_seed(21))
C_formula = float((AB[1:] * 0.25 / (AB[1:] * 0.25 + 1 - AB[1:])).mean())          # average over i = 1..n
print(f"floor for N(m, 0.25 I): formula {C_formula:.4f}, Monte Carlo {C_mc:.4f} +- {C_mc_se:.1g}")
verify.within_standard_errors("exercise-floor-monte-carlo", C_mc, C_formula, C_mc_se,
                              "irreducible_loss of N(m, 0.25 I) matches the average of the closed-form floors")
""")

md(r"""
````{exercise} Tweedie's denoiser in code
:label: dsm-ex-tweedie

Write `tweedie_denoise(x_i, score, alpha_bar)` that returns the posterior mean
$\E[x_0 \mid x_i] = \bigl(x_i + (1 - \abar_i)\, s_i(x_i)\bigr)/\sqrt{\abar_i}$. Here `x_i` is a
`(batch, d)` tensor of noisy points, `score` the tensor of the values $s_i(x_i)$ (same shape), and
`alpha_bar` the 0-d tensor $\abar_i$. Do not use `ddpm_lib`. Put your answer in the cell tagged
`solution` (it holds our reference answer, hidden in the rendered book) and run the cell after it:
`check("dsm-ex-tweedie", tweedie_denoise)` tests it on cases with known answers and names the usual
mistakes (a sign error, $\abar_i$ in place of $\sqrt{\abar_i}$, $\sqrt{1 - \abar_i}$ in place of
$1 - \abar_i$, mixing up the score and the noise).
````

````{solution} dsm-ex-tweedie
:class: dropdown

The score points towards higher density, so it is *added*, scaled by the noise variance
$1 - \abar_i$; then the signal scale $\sqrt{\abar_i}$ is undone. The reference code is in the
(hidden) cell below. A useful self-test: for $p_0 = \N(0, I)$, $s_i(x) = -x$, and the formula gives
$\sqrt{\abar_i}\,x$, the familiar shrinkage of Gaussian denoising.
````
""")

code(r"""
def tweedie_denoise(x_i, score, alpha_bar):
    # E[x_0 | x_i] = (x_i + (1 - abar) s_i(x_i)) / sqrt(abar)
    return (x_i + (1 - alpha_bar) * score) / torch.sqrt(alpha_bar)
""", tags=["solution", "hide-input"])

code(r"""
feedback = check("dsm-ex-tweedie", tweedie_denoise)
print(feedback)
assert feedback.passed
""")

md(r"""
````{exercise} Predicting $x_0$ instead of $\varepsilon$
:label: dsm-ex-x0-prediction

Any $\varepsilon$-predictor defines a clean-point predictor
$\hat x_0(x_i) = (x_i - \sqrt{1 - \abar_i}\,\varepsilon_\theta(x_i, i))/\sqrt{\abar_i}$. Show that for every
draw

$$
\|x_0 - \hat x_0(x_i)\|^2 = \frac{1 - \abar_i}{\abar_i}\, \|\varepsilon - \varepsilon_\theta(x_i, i)\|^2 ,
$$

so that at each step the $x_0$-error is the DSM loss times $(1 - \abar_i)/\abar_i$, and the best $x_0$-predictor is
Tweedie's. Then, at $i = 300$, compare the mean squared $x_0$-error of three denoisers: Tweedie with the exact
score, Tweedie with the trained network, and the naive rescaling $x_i/\sqrt{\abar_i}$.
````

````{solution} dsm-ex-x0-prediction
:class: dropdown

Substituting $x_i = \sqrt{\abar_i}\,x_0 + \sqrt{1 - \abar_i}\,\varepsilon$ gives
$\hat x_0 = x_0 + \sqrt{(1 - \abar_i)/\abar_i}\,(\varepsilon - \varepsilon_\theta)$; square it. At a fixed step the
two losses are proportional, so they have the same minimiser, $\varepsilon^*$, which yields Tweedie's
$\E[x_0 \mid x_i]$. Averaged over steps they weight the steps differently: an $x_0$-loss puts the
weight $(1 - \abar_i)/\abar_i$ on step $i$, huge at large $i$. This is one reason DDPM trains on
$\varepsilon$. Numerically (cell below), the exact Tweedie denoiser is best, the trained network is within
about 1 % of it, and the naive rescaling, which ignores the data distribution, has an error of
$(1 - \abar_i)\,d/\abar_i$, about 70 % more at this step.
````
""")

code(r"""
eps_sym, eps_hat = sp.symbols("varepsilon varepsilon_theta", real=True)
x0_hat = (F.vp_marginal(x0, abar, eps_sym) - sp.sqrt(1 - abar) * eps_hat) / sp.sqrt(abar)
verify.symbolic_equal("exercise-x0-error-is-scaled-eps-error", (x0 - x0_hat)**2,
                      (1 - abar) / abar * (eps_sym - eps_hat)**2,
                      "|x_0 - x0_hat|^2 = (1 - abar)/abar |eps - eps_theta|^2 for every draw")

i = 300
a = float(AB[i])
x0s, e, xs = noisy_pairs(i, 100_000, torch.Generator().manual_seed(22))
with torch.no_grad():
    errors = {"Tweedie, exact score": ((x0s - (xs - math.sqrt(1 - a) * eps_star(xs, i)) / math.sqrt(a))**2).sum(1),
              "Tweedie, trained network": ((x0s - (xs - math.sqrt(1 - a) * model(xs, i)) / math.sqrt(a))**2).sum(1),
              "naive x_i / sqrt(abar)": ((x0s - xs / math.sqrt(a))**2).sum(1)}
for name, err in errors.items():
    print(f"{name:>26}: mean squared x_0 error {err.mean():.3g}")
verify.close("exercise-x0-error-numeric", errors["Tweedie, exact score"], (1 - a) / a * ((e - eps_star(xs, i))**2).sum(1),
             "on every draw the x_0 error of Tweedie is (1 - abar)/abar times the eps error of eps*",
             rtol=1e-9, atol=1e-12, why="float64 round-off")
d_learned = errors["Tweedie, trained network"] - errors["Tweedie, exact score"]
verify.holds("exercise-exact-tweedie-is-best", bool(d_learned.mean() > -4 * d_learned.std() / math.sqrt(len(d_learned))),
             "the trained network does not beat the exact posterior mean (paired, 4 standard errors)")
verify.less_than("exercise-naive-is-worse", float(errors["Tweedie, exact score"].mean()),
                 float(errors["naive x_i / sqrt(abar)"].mean()),
                 "the exact Tweedie denoiser has a smaller x_0 error than the naive rescaling at i = 300",
                 why="the posterior mean minimises the mean squared error over all functions of x_i")
""")

code(r"""
_ = verify.summary(expected=N_CHECKS)
""")


if __name__ == "__main__":
    main("score_matching", {"N_CHECKS": "38", "RUNTIME": "40"})
