"""Build book/ddpm_discrete.ipynb (unexecuted) from the cells below.

    python scripts/build_notebooks/ddpm_discrete.py
    jupyter nbconvert --to notebook --execute --inplace book/ddpm_discrete.ipynb

The cells live here as Python strings so that the chapter can be regenerated and diffed.
"""
from __future__ import annotations

from _nb import code, main, md


# ---------------------------------------------------------------------------------------
md(r"""
# DDPM in discrete steps

*Runs in about 20 s on a laptop CPU (one thread). No GPU is used: the small image model is
loaded from a checkpoint that ships with the book.*

The previous chapters reversed the forward process in continuous time: the reverse SDE needs
the score $\nabla\log p_t$, and its discretisation is a chain of small Gaussian steps. DDPM
{cite}`ho2020denoising` reaches the same sampler from the other end. It never mentions an SDE:
it writes down a Markov chain $p_\theta(x_{i-1}\mid x_i)$ of Gaussian steps, fits it by
maximum likelihood through a variational bound {cite}`sohldickstein2015deep`, and finds that
the bound boils down to predicting the noise that was added to the data.

This chapter follows that route and checks every step:

1. the **posterior** $q(x_{i-1}\mid x_i, x_0)$ of the forward chain is Gaussian with an
   explicit mean and variance $\tilde\beta_i$;
2. the **variational bound** is a sum of KL divergences between Gaussians, and each one is a
   weighted squared error between the true and predicted noise — drop the weights and you get
   the $\varepsilon$-loss that everyone trains with;
3. the reverse variance has two natural choices, $\sigma_i^2 = \beta_i$ and
   $\sigma_i^2 = \tilde\beta_i$, each **exact** for one kind of data;
4. the ancestral step is a first-order discretisation of the reverse SDE, and the
   deterministic DDIM step {cite}`song2021ddim` one of the probability-flow ODE
   {cite}`song2021scorebased`; we measure the order of each;
5. the same machinery generates 8×8 handwritten digits with a small U-Net;
6. **classifier-free guidance** {cite}`ho2022classifierfree` on a labelled 2-D mixture whose
   conditional scores are exact, so we can see precisely what the guidance weight does.

Notation is the book's: $\alpha_i = 1-\beta_i$, $\abar_i = \alpha_1\cdots\alpha_i$, $\abar_0 = 1$,
and the arrays of a `Schedule` are indexed by the step number.
""")

code(r"""
%matplotlib inline
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
import torch
from scipy import integrate

from ddpm_lib import Schedule, linear_schedule, scaled_linear_schedule, verify
from ddpm_lib import forward as F
from ddpm_lib.checkpoints import load_checkpoint
from ddpm_lib.data import make_dataset
from ddpm_lib.exercises import check
from ddpm_lib.metrics import noise_floor, sliced_wasserstein
from ddpm_lib.mixtures import GaussianMixture, ring_mixture
from ddpm_lib.notebook import setup
from ddpm_lib.samplers import ddim, ddpm_ancestral, probability_flow_heun, reverse_sde_euler

g = setup("DDPM in discrete steps")   # one thread, float64, fixed seeds; g is a seeded torch.Generator
""")

# ---------------------------------------------------------------------------------------
md(r"""
## The posterior of the forward chain

The forward chain adds noise one step at a time, $q(x_i\mid x_{i-1}) = \N(\sqrt{\alpha_i}\,x_{i-1}, \beta_i I)$,
and in one shot $q(x_i\mid x_0) = \N(\sqrt{\abar_i}\,x_0, (1-\abar_i) I)$ (see the chapter on the
forward process). Running the chain backwards needs $q(x_{i-1}\mid x_i)$, which depends on the
unknown data distribution. But if we *also* know where the chain started, the backward step is
a plain Gaussian.

:::{prf:theorem} The forward posterior
:label: ddpm-thm-posterior

For $i \ge 2$,

$$
q(x_{i-1}\mid x_i, x_0) = \N\big(\tilde\mu_i(x_i, x_0),\ \tilde\beta_i I\big),\qquad
\tilde\mu_i = \frac{\sqrt{\abar_{i-1}}\,\beta_i}{1-\abar_i}\,x_0 + \frac{\sqrt{\alpha_i}\,(1-\abar_{i-1})}{1-\abar_i}\,x_i,
\qquad \tilde\beta_i = \frac{1-\abar_{i-1}}{1-\abar_i}\,\beta_i .
$$

(For $i = 1$ the formula gives $\tilde\beta_1 = 0$ and $\tilde\mu_1 = x_0$: given $x_0$ there is
nothing left to guess.)
:::

:::{prf:proof}
By the Markov property $q(x_i\mid x_{i-1}, x_0) = q(x_i\mid x_{i-1})$, so by Bayes' rule
$q(x_{i-1}\mid x_i, x_0) \propto q(x_i\mid x_{i-1})\,q(x_{i-1}\mid x_0)$ as a function of
$y = x_{i-1}$. Coordinates are independent, so take $d = 1$. The log of the right-hand side is

$$
-\frac{(x_i - \sqrt{\alpha_i}\,y)^2}{2\beta_i} - \frac{(y - \sqrt{\abar_{i-1}}\,x_0)^2}{2(1-\abar_{i-1})} + \text{const},
$$

a quadratic in $y$. Completing the square: the coefficient of $-y^2/2$ is the precision
$\alpha_i/\beta_i + 1/(1-\abar_{i-1}) = (1-\abar_i)/(\beta_i(1-\abar_{i-1}))$, using
$\abar_i = \alpha_i\abar_{i-1}$, whose inverse is $\tilde\beta_i$; the coefficient of $y$ divided
by the precision is the mean $\tilde\mu_i$.
:::

The next cell does this computation in SymPy. The two Gaussians are built from the library's own
`vp_step` and `vp_marginal` (with the noise set to 0 for the means and to 1 for the standard
deviations), so a wrong coefficient in `ddpm_lib` would stop the page here.
""")

code(r"""
x0, xi, y, eps, eps_th = sp.symbols("x_0 x_i y epsilon epsilon_theta", real=True)
beta, abp = sp.symbols("beta_i abar_im1", positive=True)   # beta_i and abar_{i-1}
alpha = 1 - beta
ab = alpha * abp                                           # abar_i = alpha_i abar_{i-1}


def log_normal(v, mean, var):
    return -(v - mean)**2 / (2 * var) - sp.log(2 * sp.pi * var) / 2


# q(x_i | x_{i-1} = y) and q(x_{i-1} = y | x_0), from the library's formulas
log_step = log_normal(xi, F.vp_step(y, beta, 0), F.vp_step(0, beta, 1)**2)
log_marg = log_normal(y, F.vp_marginal(x0, abp, 0), F.vp_marginal(0, abp, 1)**2)
log_joint = log_step + log_marg

precision = -sp.diff(log_joint, y, 2)                      # coefficient of -y^2/2
post_var = 1 / precision
post_mean = sp.diff(log_joint, y).subs(y, 0) / precision   # linear coefficient / precision

beta_tilde = (1 - abp) / (1 - ab) * beta
mu_tilde = sp.sqrt(abp) * beta / (1 - ab) * x0 + sp.sqrt(alpha) * (1 - abp) / (1 - ab) * xi

verify.symbolic_equal("posterior-variance", post_var, beta_tilde,
                      "completing the square gives the posterior variance beta_tilde_i")
verify.symbolic_equal("posterior-mean", post_mean, mu_tilde,
                      "completing the square gives the posterior mean mu_tilde_i")
verify.symbolic_zero("posterior-complete-square", sp.diff(log_joint - log_normal(y, mu_tilde, beta_tilde), y),
                     "q(x_i|y) q(y|x_0) / N(y; mu_tilde, beta_tilde) does not depend on y")
""")

md(r"""
The check `posterior-complete-square` is the whole theorem in one line: the product of the two
forward densities, divided by the claimed Gaussian, is constant in $y$. A plausible slip is to
think that the backward step has the forward step's variance $\beta_i$; the same check rejects it.
The library stores $\tilde\beta_i$ as `Schedule.posterior_variances`, which we compare with the
formula on Ho et al.'s 1,000-step linear schedule.
""")

code(r"""
with verify.wrong_variant("posterior-variance-is-not-beta", "the backward step has the forward variance beta_i"):
    verify.symbolic_zero("posterior-beta", sp.diff(log_joint - log_normal(y, mu_tilde, beta), y),
                         "q(x_i|y) q(y|x_0) / N(y; mu_tilde, beta) does not depend on y")

sched1000 = linear_schedule(1000)
bt_formula = sp.lambdify((beta, abp), beta_tilde)
b_np = sched1000.betas.numpy()[2:]
abp_np = sched1000.alpha_bars.numpy()[1:-1]
verify.close("posterior-variances-library", sched1000.posterior_variances[2:], bt_formula(b_np, abp_np),
             "Schedule.posterior_variances[i] equals (1 - abar_{i-1}) / (1 - abar_i) beta_i for i = 2..1000",
             rtol=1e-12, why="the same formula in float64; only rounding differs")
verify.holds("posterior-variance-first-step", float(sched1000.posterior_variances[1]) == 0.0,
             "beta_tilde_1 = 0: given x_0 and x_1 there is no uncertainty left about x_0")
""")

md(r"""
The posterior is the law of the actual chain, which we can see by simulation: fix $x_0$, run the
forward chain many times, and regress $x_{i-1}$ on $x_i$. For jointly Gaussian variables the
regression slope is the coefficient of $x_i$ in $\tilde\mu_i$ and the residual variance is the
conditional variance $\tilde\beta_i$.
""")

code(r"""
sched_mc = linear_schedule(10, beta_start=0.05, beta_end=0.4)     # coarse, so beta and beta_tilde differ a lot
i_mc, x0_val, n_mc = 4, 1.3, 400_000
path = F.markov_chain(sched_mc, torch.full((n_mc, 1), x0_val), generator=g, steps=i_mc, return_path=True)
prev, cur = path[i_mc - 1, :, 0], path[i_mc, :, 0]
slope = float(((cur - cur.mean()) * (prev - prev.mean())).mean() / cur.var())
resid = prev - prev.mean() - slope * (cur - cur.mean())
b_i, ab_i, ab_im1 = (float(v) for v in (sched_mc.betas[i_mc], sched_mc.alpha_bars[i_mc], sched_mc.alpha_bars[i_mc - 1]))
bt_i = float(sched_mc.posterior_variances[i_mc])
slope_theory = math.sqrt(1 - b_i) * (1 - ab_im1) / (1 - ab_i)
print(f"step {i_mc}: residual variance {float(resid.var()):.3g} (beta_tilde {bt_i:.3g}, beta {b_i:.3g}); "
      f"slope {slope:.3g} (theory {slope_theory:.3g})")
verify.within_standard_errors("posterior-variance-mc", float(resid.var()), bt_i, bt_i * math.sqrt(2 / n_mc),
                              "the residual variance of x_{i-1} given x_i (x_0 fixed) is beta_tilde_i")
verify.within_standard_errors("posterior-slope-mc", slope, slope_theory,
                              math.sqrt(bt_i / (n_mc * float(cur.var()))),
                              "the regression slope of x_{i-1} on x_i is sqrt(alpha_i)(1 - abar_{i-1})/(1 - abar_i)")
""")

md(r"""
### The reverse model

DDPM imitates the posterior without knowing $x_0$. It keeps the Gaussian form and replaces
$x_0$ by an estimate. Because $x_i = \sqrt{\abar_i}\,x_0 + \sqrt{1-\abar_i}\,\varepsilon$, an estimate
of the noise $\varepsilon$ gives one of $x_0$, and it is the noise that the network predicts.

:::{prf:definition} The DDPM reverse model
:label: ddpm-def-reverse

With a noise predictor $\varepsilon_\theta(x_i, i)$ and variances $\sigma_i^2$,

$$
p_\theta(x_{i-1}\mid x_i) = \N\big(\mu_\theta(x_i, i),\ \sigma_i^2 I\big), \qquad
\mu_\theta(x_i, i) = \frac{1}{\sqrt{\alpha_i}}\Big(x_i - \frac{\beta_i}{\sqrt{1-\abar_i}}\,\varepsilon_\theta(x_i, i)\Big),
$$

and $p(x_n) = \N(0, I)$. **Ancestral sampling** draws $x_n$ and then each $x_{i-1}$ from
$p_\theta(\cdot\mid x_i)$, with no noise in the last step (its output is the mean $\mu_\theta(x_1, 1)$).
:::

The mean is exactly the posterior mean with $x_0$ replaced by
$\hat x_0 = (x_i - \sqrt{1-\abar_i}\,\varepsilon)/\sqrt{\abar_i}$:
""")

code(r"""
x0_hat = (xi - sp.sqrt(1 - ab) * eps) / sp.sqrt(ab)
mu_eps = (xi - beta / sp.sqrt(1 - ab) * eps) / sp.sqrt(alpha)
verify.symbolic_equal("posterior-mean-eps-form", mu_tilde.subs(x0, x0_hat), mu_eps,
                      "mu_tilde(x_i, x0_hat(eps)) = (x_i - beta_i / sqrt(1 - abar_i) eps) / sqrt(alpha_i)")
""")

md(r"""
`ddpm_lib.samplers.ddpm_ancestral` is this model. To check the code and not only the algebra, we
run it on a three-step schedule with an arbitrary (made-up) noise predictor and redo the steps by
hand with the same random numbers.
""")

code(r"""
sched3 = linear_schedule(3, beta_start=0.2, beta_end=0.5)
fake_eps = lambda x, i: torch.sin(x) * i.to(x.dtype)[:, None]       # any function of (x_i, i) will do
x_start = torch.randn(5, 2, generator=torch.Generator().manual_seed(1))
for variance, sig2 in (("beta", sched3.betas), ("beta_tilde", sched3.posterior_variances)):
    lib = ddpm_ancestral(fake_eps, sched3, x_start, generator=torch.Generator().manual_seed(2), variance=variance)
    gen, x = torch.Generator().manual_seed(2), x_start.clone()
    for i in (3, 2, 1):
        b, a_bar = float(sched3.betas[i]), float(sched3.alpha_bars[i])
        x = (x - b / math.sqrt(1 - a_bar) * fake_eps(x, torch.full((5,), i))) / math.sqrt(1 - b)
        if i > 1:
            x = x + math.sqrt(float(sig2[i])) * torch.randn(x.shape, generator=gen)
    verify.close(f"ancestral-library-{variance}", lib, x,
                 f"ddpm_ancestral(variance='{variance}') runs the reverse model step by step",
                 atol=1e-12, why="the same float64 operations in a different order")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## From the variational bound to the ε-loss

The model is fitted by maximising the likelihood of the data, or rather a lower bound on it
{cite}`sohldickstein2015deep,ho2020denoising`.

:::{prf:theorem} The variational bound, term by term
:label: ddpm-thm-elbo

For every $x_0$,

$$
-\log p_\theta(x_0) \le \underbrace{\mathrm{KL}\big(q(x_n\mid x_0)\,\|\,p(x_n)\big)}_{L_n}
+ \sum_{i=2}^{n} \underbrace{\mathbb{E}_{q(x_i\mid x_0)}\,\mathrm{KL}\big(q(x_{i-1}\mid x_i, x_0)\,\|\,p_\theta(x_{i-1}\mid x_i)\big)}_{L_{i-1}}
\ \underbrace{-\ \mathbb{E}_{q(x_1\mid x_0)} \log p_\theta(x_0\mid x_1)}_{L_0}.
$$
:::

:::{prf:proof}
Jensen's inequality gives $-\log p_\theta(x_0) \le \mathbb{E}_q\big[\log q(x_{1:n}\mid x_0) - \log p_\theta(x_{0:n})\big]$.
Write $q(x_{1:n}\mid x_0) = \prod_i q(x_i\mid x_{i-1})$ and, for $i\ge2$, use Bayes' rule in the form

$$
q(x_i\mid x_{i-1})\,q(x_{i-1}\mid x_0) = q(x_{i-1}\mid x_i, x_0)\,q(x_i\mid x_0).
$$

The factors $q(x_i\mid x_0)/q(x_{i-1}\mid x_0)$ telescope to $q(x_n\mid x_0)/q(x_1\mid x_0)$, and
grouping each posterior with the matching model step gives the KL terms.
:::

The identity in the proof is exact, normalising constants included; SymPy confirms it with the
posterior of {prf:ref}`ddpm-thm-posterior`:
""")

code(r"""
log_qi_x0 = log_normal(xi, F.vp_marginal(x0, ab, 0), F.vp_marginal(0, ab, 1)**2)
bayes_gap = log_joint - (log_normal(y, mu_tilde, beta_tilde) + log_qi_x0)
verify.symbolic_zero("bayes-identity", sp.expand_log(bayes_gap, force=True),
                     "q(x_i|x_{i-1}) q(x_{i-1}|x_0) = q(x_{i-1}|x_i,x_0) q(x_i|x_0) as densities")
""")

md(r"""
$L_n$ has no parameters, and every $L_{i-1}$ compares two Gaussians. Their KL divergence has a
closed form.

:::{prf:lemma} KL divergence of two Gaussians
:label: ddpm-lem-kl

$$
\mathrm{KL}\big(\N(m_1, s_1^2)\,\|\,\N(m_2, s_2^2)\big) = \log\frac{s_2}{s_1} + \frac{s_1^2 + (m_1 - m_2)^2}{2 s_2^2} - \frac12 ,
$$

and in $d$ dimensions with covariances $s_1^2 I$, $s_2^2 I$ it is the sum of $d$ such terms.
:::

:::{prf:proof}
$\mathrm{KL} = \mathbb{E}_1[\log p_1(X) - \log p_2(X)]$ and the integrand is a quadratic
polynomial in $X$; replace $X^2$ by $\mathbb{E}_1 X^2 = s_1^2 + m_1^2$ and $X$ by $m_1$.
:::
""")

code(r"""
m1, m2 = sp.symbols("m_1 m_2", real=True)
s1, s2 = sp.symbols("s_1 s_2", positive=True)
log_ratio = sp.Poly(sp.expand(log_normal(y, m1, s1**2) - log_normal(y, m2, s2**2)), y)
c2, c1, c0 = log_ratio.all_coeffs()
kl_moments = c2 * (s1**2 + m1**2) + c1 * m1 + c0          # E_1[log p_1 - log p_2]
kl_closed = sp.log(s2 / s1) + (s1**2 + (m1 - m2)**2) / (2 * s2**2) - sp.Rational(1, 2)
verify.symbolic_equal("kl-gaussians", kl_moments, kl_closed, "the closed form of KL(N(m1, s1^2) || N(m2, s2^2))")

vals = {m1: 0.3, s1: 0.7, m2: -0.4, s2: 1.3}
p1 = sp.lambdify(y, sp.exp(log_normal(y, m1, s1**2)).subs(vals))
p2 = sp.lambdify(y, sp.exp(log_normal(y, m2, s2**2)).subs(vals))
kl_quad, _ = integrate.quad(lambda v: p1(v) * math.log(p1(v) / p2(v)), -12, 12, epsabs=1e-13, epsrel=1e-12)
print(f"KL by quadrature {kl_quad:.6f}, closed form {float(kl_closed.subs(vals)):.6f}")
verify.close("kl-gaussians-quadrature", kl_quad, float(kl_closed.subs(vals)),
             "numerical integration agrees with the closed form at (m1, s1, m2, s2) = (0.3, 0.7, -0.4, 1.3)",
             rtol=1e-9, why="adaptive quadrature on [-12, 12]: the tails beyond carry < 1e-20")
""")

md(r"""
Now put the posterior and the model into the lemma. Both have fixed variances, so only the
squared distance of the means depends on $\theta$. Write $x_i = \sqrt{\abar_i}\,x_0 + \sqrt{1-\abar_i}\,\varepsilon$.
By the eps-form of the posterior mean, $\tilde\mu_i$ is the model mean with the *true* noise in
place of the prediction, so

$$
\tilde\mu_i - \mu_\theta = \frac{\beta_i}{\sqrt{\alpha_i}\sqrt{1-\abar_i}}\,\big(\varepsilon_\theta(x_i, i) - \varepsilon\big),
\qquad
L_{i-1} = \underbrace{\frac{\beta_i^2}{2\sigma_i^2\,\alpha_i\,(1-\abar_i)}}_{\lambda_i}\ \mathbb{E}\,\big\|\varepsilon - \varepsilon_\theta(x_i, i)\big\|^2 + C_i ,
$$

with $C_i$ independent of $\theta$. Ho et al. found that training works better if the weight
$\lambda_i$ is **dropped**: the simplified loss $\mathbb{E}_{i,x_0,\varepsilon}\|\varepsilon - \varepsilon_\theta(x_i, i)\|^2$ with
$i$ uniform is the denoising score matching loss of the earlier chapters, because
$\varepsilon_\theta = -\sqrt{1-\abar_i}\,s_\theta$ {cite}`vincent2011connection`.
""")

code(r"""
sigma2 = sp.symbols("sigma_i^2", positive=True)
mu_theta = mu_eps.subs(eps, eps_th)
mean_gap = mu_tilde.subs(x0, x0_hat) - mu_theta
kl_term = kl_closed.subs({m1: mu_tilde.subs(x0, x0_hat), m2: mu_theta, s1: sp.sqrt(beta_tilde), s2: sp.sqrt(sigma2)})
lam = beta**2 / (2 * sigma2 * alpha * (1 - ab))
verify.symbolic_equal("kl-weight", kl_term - kl_term.subs(eps_th, eps), lam * (eps - eps_th)**2,
                      "the theta-dependent part of L_{i-1} is lambda_i (eps - eps_theta)^2")
""")

md(r"""
The weight depends on the choice of $\sigma_i^2$. With $\sigma_i^2 = \beta_i$ it is
$\beta_i / (2\alpha_i(1-\abar_i))$; with $\sigma_i^2 = \tilde\beta_i$ it is
$\beta_i/(2\alpha_i(1-\abar_{i-1}))$. Only the *shape* of $\lambda_i$ across the steps matters (a
constant factor does not change the minimiser), so Figure 1 shows each weight divided by its mean.
Both are largest at the first steps, where $1-\abar$ is tiny: the true bound concentrates its
effort on the least noisy steps, which decide fine detail but little of what makes a sample look
right. Dropping $\lambda_i$ spreads the effort evenly over the noise levels.
""")

code(r"""
lam_fn = sp.lambdify((beta, abp, sigma2), lam)
steps_all = np.arange(2, 1001)
b_all = sched1000.betas.numpy()[2:]
abp_all = sched1000.alpha_bars.numpy()[1:-1]
lam_beta = lam_fn(b_all, abp_all, b_all)
lam_tilde = lam_fn(b_all, abp_all, sched1000.posterior_variances.numpy()[2:])

fig, ax = plt.subplots(figsize=(6.4, 3.4))
ax.loglog(steps_all, lam_beta / lam_beta.mean(), label=r"$\sigma_i^2 = \beta_i$")
ax.loglog(steps_all, lam_tilde / lam_tilde.mean(), "--", label=r"$\sigma_i^2 = \tilde\beta_i$")
ax.axhline(1.0, color="0.4", lw=1, label="simplified loss")
ax.set_xlabel("step $i$")
ax.set_ylabel(r"weight $\lambda_i$ / its mean")
ax.legend()
plt.show()
print(f"lambda_2 / lambda_1000 = {lam_beta[0] / lam_beta[-1]:.3g} (sigma^2 = beta), "
      f"{lam_tilde[0] / lam_tilde[-1]:.3g} (sigma^2 = beta_tilde)")
verify.holds("kl-weight-largest-first", bool(np.argmax(lam_beta) == 0 and np.argmax(lam_tilde) == 0),
             "on the linear schedule the weight lambda_i is largest at the first step i = 2, for both variances")
""")

md(r"""
**Figure 1.** The weight $\lambda_i$ that the variational bound puts on the noise-prediction
error at step $i$ (divided by its mean over the steps), for Ho et al.'s linear schedule with
$n = 1000$. It is largest at the start of the chain — larger than at the end by a factor of about 27 for $\sigma^2 = \beta$ and
59 for $\tilde\beta$ from $i = 2$ to $i = 1000$; the simplified loss (grey) weighs all steps equally.
""")

# ---------------------------------------------------------------------------------------
md(r"""
### Two natural variances

The model's variance $\sigma_i^2$ is not learned in the basic DDPM. Which value is right? The
true reverse step $q(x_{i-1}\mid x_i)$ is not Gaussian in general, but in two extreme cases it is,
and its variance is one of the two candidates.

:::{prf:theorem} $\tilde\beta_i$ and $\beta_i$ are exact at the two extremes
:label: ddpm-thm-variances

(a) If the data is a single point, $x_0 = c$, then $q(x_{i-1}\mid x_i) = \N(\tilde\mu_i(x_i, c), \tilde\beta_i I)$.

(b) If the data is $\N(0, I)$, then $q(x_{i-1}\mid x_i) = \N(\sqrt{\alpha_i}\,x_i,\ \beta_i I)$.

In both cases the DDPM mean with the exact noise predictor $\varepsilon^*$ is the true mean, so
ancestral sampling with $\sigma_i^2 = \tilde\beta_i$ in case (a), and with $\sigma_i^2 = \beta_i$ in
case (b), reproduces every marginal $q(x_i)$ exactly, for **any** number of steps.
:::

:::{prf:proof}
In both cases $(x_{i-1}, x_i)$ is jointly Gaussian, with
$\operatorname{Var} x_{i-1} = V_{i-1}$, $\operatorname{Cov}(x_{i-1}, x_i) = \sqrt{\alpha_i}\,V_{i-1}$ and
$\operatorname{Var} x_i = \alpha_i V_{i-1} + \beta_i$ per coordinate, where
$V_{i-1} = 1 - \abar_{i-1}$ in case (a) and $V_{i-1} = 1$ in case (b). The conditional variance is
$V_{i-1} - \alpha_i V_{i-1}^2 / (\alpha_i V_{i-1} + \beta_i)$, which the next cell evaluates in both
cases. In case (a) conditioning on $x_0 = c$ adds nothing, so the mean is $\tilde\mu_i(x_i, c)$; in
case (b) it is $\sqrt{\alpha_i}\,x_i$ by the regression formula. The mean claims are checked
below the proof.
:::
""")

code(r"""
def reverse_conditional_variance(V_prev):
    # Var(x_{i-1} | x_i) for jointly Gaussian (x_{i-1}, x_i) with x_i = sqrt(alpha) x_{i-1} + sqrt(beta) noise
    V_i = alpha * V_prev + beta
    return V_prev - alpha * V_prev**2 / V_i


verify.symbolic_equal("reverse-variance-point", reverse_conditional_variance(1 - abp), beta_tilde,
                      "for point-mass data the true reverse variance is beta_tilde_i")
verify.symbolic_equal("reverse-variance-gaussian", reverse_conditional_variance(1), beta,
                      "for N(0, I) data the true reverse variance is beta_i")

# the means: DDPM's mean with the exact noise predictor of each case
c = sp.symbols("c", real=True)
eps_point = (xi - sp.sqrt(ab) * c) / sp.sqrt(1 - ab)       # x_i = sqrt(abar) c + sqrt(1 - abar) eps
eps_gauss = sp.sqrt(1 - ab) * xi                           # -sqrt(1 - abar) * score of N(0, 1)
verify.symbolic_equal("reverse-mean-point", mu_eps.subs(eps, eps_point), mu_tilde.subs(x0, c),
                      "with the exact eps of point data, the DDPM mean is mu_tilde(x_i, c)")
verify.symbolic_equal("reverse-mean-gaussian", mu_eps.subs(eps, eps_gauss), sp.sqrt(alpha) * xi,
                      "with the exact eps of N(0, 1) data, the DDPM mean is sqrt(alpha_i) x_i")
""")

md(r"""
So with $\sigma_i^2 = \beta_i$ the sampler is exact for data that looks like noise, and with
$\tilde\beta_i$ for data concentrated at a point; Ho et al. describe them as the two ends of the
range of reverse-process entropies. Simulation makes the exactness concrete. On the coarse
10-step schedule from above we run the ancestral sampler with the exact noise predictor of each
case and compare the sample variance at an intermediate step with the true
$\operatorname{Var} x_i$. The right variance passes; the other one fails, even though the schedule is
the same and the noise predictor is exact.
""")

code(r"""
n_sim, c_val = 200_000, 1.5
ab_t = sched_mc.alpha_bars
eps_gauss_fn = lambda x, i: torch.sqrt(1 - ab_t[i])[:, None] * x
eps_point_fn = lambda x, i: (x - torch.sqrt(ab_t[i])[:, None] * c_val) / torch.sqrt(1 - ab_t[i])[:, None]
n10, i_chk = sched_mc.n, 3


def var_at_step(eps_fn, x_start, variance, seed):
    path = ddpm_ancestral(eps_fn, sched_mc, x_start, generator=torch.Generator().manual_seed(seed),
                          variance=variance, return_path=True)
    return float(path[n10 - i_chk].var())                # path[k] holds x_{n-k}


x_gauss = torch.randn(n_sim, 1, generator=torch.Generator().manual_seed(3))
x_point = math.sqrt(ab_t[-1]) * c_val + math.sqrt(1 - ab_t[-1]) * torch.randn(n_sim, 1, generator=torch.Generator().manual_seed(4))
true_gauss, true_point = 1.0, float(1 - ab_t[i_chk])
for name, eps_fn, x_start, truth, right, wrong in (("gaussian", eps_gauss_fn, x_gauss, true_gauss, "beta", "beta_tilde"),
                                                  ("point", eps_point_fn, x_point, true_point, "beta_tilde", "beta")):
    v_right, v_wrong = var_at_step(eps_fn, x_start, right, 5), var_at_step(eps_fn, x_start, wrong, 5)
    print(f"{name} data: Var x_{i_chk} = {truth:.3g}; sampler with {right}: {v_right:.3g}, with {wrong}: {v_wrong:.3g}")
    se = truth * math.sqrt(2 / n_sim)
    verify.within_standard_errors(f"exact-variance-{name}", v_right, truth, se,
                                  f"{name} data: ancestral sampling with sigma^2 = {right} has the true Var x_{i_chk}")
    with verify.wrong_variant(f"wrong-variance-{name}", f"{name} data: sigma^2 = {wrong} is exact too"):
        verify.within_standard_errors(f"exact-variance-{name}-{wrong}", v_wrong, truth, se, "")
""")

md(r"""
Real data is neither a point nor white noise, and for a mixture neither choice is exact. The
exercises show that for data $\N(0, v I)$ the true reverse variance moves from $\tilde\beta_i$ to
$\beta_i$ as $v$ grows from 0 to 1. How much the choice matters in practice depends on the number
of steps: with many small steps $\tilde\beta_i \approx \beta_i$ except at the very beginning of the
chain (next section). We compare the two on the ring of eight Gaussians, with the **exact** noise
predictor `mixture.eps_fn(schedule)` so that only the sampler is on trial. For $n$ steps we use
Ho et al.'s linear schedule with its $\beta$ range scaled by $1000/n$, so that every $n$ reaches the
same $\abar_n \approx 4\times10^{-5}$ (the plain `linear_schedule(n)` would stop far from noise
for small $n$). The quality measure is the sliced Wasserstein distance (SWD) to fresh data, next
to its noise floor — the SWD between two independent samples of the data. On a multimodal target
this floor fluctuates a lot from one draw to the next (the share of points in each mode is
random), so a correct sampler passes if its SWD is below the floor's mean plus four standard
deviations, estimated from ten repeats. Such a check is a statistical test with a small
false-alarm rate: the seeds below are fixed, and while writing this chapter two other seeds gave
draws about three standard deviations off (one mode held 48 % instead of 50 % of the points) —
worth knowing before you change them.
""")

code(r"""
ring = ring_mixture(std=0.15)
N = 8000
data = ring.sample(N, generator=torch.Generator().manual_seed(11))
floor_mean, floor_std = noise_floor(lambda m, gen: ring.sample(m, generator=gen), N, repeats=10,
                                    generator=torch.Generator().manual_seed(12))
floor_hi = floor_mean + 4 * floor_std
print(f"noise floor of the SWD at {N} points: {floor_mean:.3g} +- {floor_std:.2g}")

step_counts = [10, 25, 50, 100, 200]
swd = {k: [] for k in ("ancestral, beta", "ancestral, beta_tilde", "reverse SDE (EM)", "DDIM", "prob. flow (Heun)")}
x_noise = torch.randn(N, 2, generator=torch.Generator().manual_seed(40))
for n in step_counts:
    s_n = scaled_linear_schedule(n)
    eps_exact = ring.eps_fn(s_n)
    for var in ("beta", "beta_tilde"):
        out = ddpm_ancestral(eps_exact, s_n, x_noise, generator=torch.Generator().manual_seed(14), variance=var)
        swd[f"ancestral, {var}"].append(sliced_wasserstein(out, data))
print("n      " + "  ".join(f"{n:>6d}" for n in step_counts))
for k in ("ancestral, beta", "ancestral, beta_tilde"):
    print(f"{k:22s}" + "  ".join(f"{v:6.3f}" for v in swd[k]))
""")

code(r"""
for k in ("ancestral, beta", "ancestral, beta_tilde"):
    verify.less_than(f"ring-{k.split(', ')[1]}-200", swd[k][-1], floor_hi,
                     f"{k} with the exact eps reaches the noise floor of the ring at n = 200",
                     why="noise-floor mean + 4 standard deviations (10 repeats)")
""")

md(r"""
Both variances bring the exact-score sampler to the noise floor by $n = 200$; the differences at
small $n$ are shown together with the other samplers in Figure 2 below.
""")

# ---------------------------------------------------------------------------------------
md(r"""
## The link to the continuous chapters

Substitute the noise prediction of the exact score, $\varepsilon = -\sqrt{1-\abar_i}\,s(x_i)$, into the
ancestral step. The mean becomes

$$
\mu = \frac{x_i + \beta_i\, s(x_i)}{\sqrt{1-\beta_i}} ,
$$

the **discrete backward update** of the reverse-SDE chapter, with no approximation. Expanding in the
step size $\beta_i$ shows the Euler–Maruyama step of the reverse SDE
$\mathrm{d}x = (\tfrac12 x + s)\,\mathrm{d}t' + \mathrm{d}W$ {cite}`anderson1982reverse`.

:::{prf:proposition} Ancestral sampling discretises the reverse SDE
:label: ddpm-prop-sde

With $\varepsilon = -\sqrt{1-\abar_i}\,s$, the ancestral step has mean $x + \beta_i(\tfrac12 x + s) + O(\beta_i^2)$
and variance $\sigma_i^2 = \beta_i$ exactly, or $\tilde\beta_i = \beta_i + O(\beta_i^2)$ for fixed
$\abar_{i-1} < 1$. The Euler–Maruyama step of the reverse SDE over $h = \beta_i$ has mean
$x + \beta_i(\tfrac12 x + s)$ and variance $\beta_i$.
:::

The $O(\beta_i^2)$ term of $\tilde\beta_i$ is $-\beta_i^2\,\abar_{i-1}/(1-\abar_{i-1})$, whose
constant blows up as $\abar_{i-1}\to1$: near the data end of the chain, where $1 - \abar_{i-1}$ is
comparable to $\beta_i$, the two variances genuinely differ (at $i = 1$, $\tilde\beta_1 = 0$).
""")

code(r"""
x, s = sp.symbols("x s", real=True)
mean_anc = mu_eps.subs({eps: -sp.sqrt(1 - ab) * s, xi: x})
verify.symbolic_equal("ancestral-is-discrete-backward", mean_anc, (x + beta * s) / sp.sqrt(1 - beta),
                      "with eps = -sqrt(1 - abar_i) s the ancestral mean is (x + beta_i s) / sqrt(1 - beta_i)")
h = sp.symbols("h", positive=True)
em_mean = x + h * (-F.ou_drift(x) + F.ou_diffusion()**2 * s)     # Euler-Maruyama of the reverse SDE
verify.symbolic_equal("ancestral-mean-first-order", sp.series(mean_anc, beta, 0, 2).removeO(), em_mean.subs(h, beta),
                      "the ancestral mean is x + beta (x/2 + s) + O(beta^2): the Euler-Maruyama mean")
verify.symbolic_equal("beta-tilde-first-order", sp.series(beta_tilde, beta, 0, 2).removeO(), beta,
                      "beta_tilde_i = beta_i + O(beta_i^2) for fixed abar_{i-1} < 1")
verify.symbolic_equal("beta-tilde-second-order", sp.series(beta_tilde, beta, 0, 3).removeO() - beta,
                      -beta**2 * abp / (1 - abp), "the beta^2 term of beta_tilde is -beta^2 abar_{i-1} / (1 - abar_{i-1})")
""")

md(r"""
### DDIM is a discretisation of the probability-flow ODE

The deterministic DDIM update {cite}`song2021ddim` predicts the clean point
$\hat x_0 = (x_i - \sqrt{1-\abar_i}\,\hat\varepsilon)/\sqrt{\abar_i}$ and moves to the noise level of step
$i-1$ *keeping the same noise*:

$$
x_{i-1} = \sqrt{\abar_{i-1}}\,\hat x_0 + \sqrt{1-\abar_{i-1}}\,\hat\varepsilon .
$$

No fresh noise enters, so it should be a discretisation of the probability-flow ODE
$\mathrm{d}x/\mathrm{d}t = -\tfrac12 x - \tfrac12 s(x, t)$ {cite}`song2021scorebased`, run backwards.

:::{prf:proposition} DDIM discretises the probability-flow ODE
:label: ddpm-prop-ddim

Let $\abar_i = e^{-t}$, $\abar_{i-1} = e^{-(t-h)}$ and $\hat\varepsilon = -\sqrt{1-\abar_i}\,s(x_i, t)$. Then
$x_{i-1} = x_i + h\big(\tfrac12 x_i + \tfrac12 s(x_i, t)\big) + O(h^2)$, the Euler step of the
probability-flow ODE from $t$ to $t - h$. Moreover, in the variables $\bar y = x/\sqrt{\abar}$ and
$\lambda = \sqrt{(1-\abar)/\abar}$ the ODE reads $\mathrm{d}\bar y/\mathrm{d}\lambda = \varepsilon$ and
DDIM is its Euler step: $\bar y_{i-1} = \bar y_i + (\lambda_{i-1} - \lambda_i)\,\hat\varepsilon$. So DDIM is exact
whenever the noise prediction is constant along the path.
:::
""")

code(r"""
t = sp.symbols("t", positive=True)
a_i, a_im1 = sp.exp(-t), sp.exp(-(t - h))
e_hat = -sp.sqrt(1 - a_i) * s
x0_ddim = (x - sp.sqrt(1 - a_i) * e_hat) / sp.sqrt(a_i)
ddim_step = sp.sqrt(a_im1) * x0_ddim + sp.sqrt(1 - a_im1) * e_hat
pf_rhs = F.ou_drift(x) - F.ou_diffusion()**2 * s / 2                 # dx/dt of the probability-flow ODE
verify.symbolic_equal("ddim-first-order", sp.series(ddim_step, h, 0, 2).removeO(), x - h * pf_rhs,
                      "the DDIM step is x + h (x/2 + s/2) + O(h^2): Euler for the probability-flow ODE")

# the ODE in (y_bar, lambda): d y_bar / d lambda = (d y_bar/dt) / (d lambda/dt) with s = -eps / sqrt(1 - abar)
abar_t = sp.exp(-t)
dy_dt = sp.diff(sp.sqrt(1 / abar_t), t) * x + sp.sqrt(1 / abar_t) * pf_rhs
dlam_dt = sp.diff(sp.sqrt((1 - abar_t) / abar_t), t)
verify.symbolic_equal("ddim-exact-variables", (dy_dt / dlam_dt).subs(s, -eps / sp.sqrt(1 - abar_t)), eps,
                      "in y_bar = x / sqrt(abar), lambda = sqrt((1 - abar)/abar) the ODE is d y_bar / d lambda = eps")
lam_of = lambda a: sp.sqrt((1 - a) / a)
verify.symbolic_equal("ddim-is-euler-in-lambda", ddim_step / sp.sqrt(a_im1),
                      x / sp.sqrt(a_i) + (lam_of(a_im1) - lam_of(a_i)) * e_hat,
                      "DDIM is the Euler step y_bar_{i-1} = y_bar_i + (lambda_{i-1} - lambda_i) eps_hat")
""")

md(r"""
`ddpm_lib.samplers.ddim` runs this update over the steps of a schedule; its last step goes to
$\abar_0 = 1$ and returns $\hat x_0$.
""")

md(r"""
Now the comparison. All samplers start from the same $x_n \sim \N(0, I)$ and use the exact score of
the ring, on the same noise levels: the SDE and ODE samplers take the forward-time grid
$t_i = -\log\abar_i$, $i = 1, \dots, n$, so that their marginal at $t_i$ is exactly the chain's
marginal at step $i$. They stop at $t_1 > 0$ (the score at $t = 0$ may not exist), so they are
compared with samples of $p_{t_1}$, while the ancestral and DDIM samplers, which end at $x_0$, are
compared with the data.

The SWD has a noise floor that hides small errors, so we also measure the error **exactly** in a
case where it can be computed: data $\N(0, v)$ in one dimension, where every sampler is a linear
recursion $x \leftarrow a_i x + b_i z$ and the variance of its output follows from
$V \leftarrow a_i^2 V + b_i^2$. We take $v = 0.05$, well away from the case $v = 1$ in which
$\sigma^2 = \beta$ is exact.
""")

code(r"""
for n in step_counts:
    s_n = scaled_linear_schedule(n)
    eps_exact, score_exact = ring.eps_fn(s_n), ring.score_fn()
    grid = -torch.log(s_n.alpha_bars[1:])
    ref_t1 = ring.diffuse(float(grid[0])).sample(N, generator=torch.Generator().manual_seed(15))
    out = reverse_sde_euler(score_exact, x_noise, grid, generator=torch.Generator().manual_seed(14))
    swd["reverse SDE (EM)"].append(sliced_wasserstein(out, ref_t1))
    swd["DDIM"].append(sliced_wasserstein(ddim(eps_exact, s_n, x_noise), data))
    swd["prob. flow (Heun)"].append(sliced_wasserstein(probability_flow_heun(score_exact, x_noise, grid), ref_t1))
print("n                     " + "  ".join(f"{n:>6d}" for n in step_counts))
for k, v in swd.items():
    print(f"{k:22s}" + "  ".join(f"{u:6.3f}" for u in v))
""")

code(r"""
def gaussian_output_variance(n, v, method):
    # exact output variance of each sampler for 1-D data N(0, v), started from N(0, 1) at step n
    s_n = scaled_linear_schedule(n)
    b, a_bar, bt = s_n.betas.tolist(), s_n.alpha_bars.tolist(), s_n.posterior_variances.tolist()
    V_of = lambda a: a * v + 1 - a                      # Var x_i = abar_i v + 1 - abar_i
    V = 1.0
    for i in range(n, 0, -1):
        Vi = V_of(a_bar[i])                             # the exact score at step i is -x / Vi
        if method.startswith("ancestral"):
            a = (1 - b[i] / Vi) / math.sqrt(1 - b[i])
            V = a * a * V + (0.0 if i == 1 else (b[i] if method == "ancestral, beta" else bt[i]))
        elif method == "DDIM":
            e = math.sqrt(1 - a_bar[i]) / Vi            # eps_hat = e * x
            a = math.sqrt(a_bar[i - 1] / a_bar[i]) * (1 - math.sqrt(1 - a_bar[i]) * e) + math.sqrt(1 - a_bar[i - 1]) * e
            V = a * a * V
        elif i > 1:                                     # SDE / ODE on the grid t_i = -log abar_i, stopping at t_1
            hh = math.log(a_bar[i - 1] / a_bar[i])
            if method == "reverse SDE (EM)":
                a = 1 + hh / 2 - hh / Vi
                V = a * a * V + hh
            else:                                       # Heun for dx/dt = c(t) x backwards, c = -1/2 + 1/(2 V)
                c0, c1 = -0.5 + 0.5 / Vi, -0.5 + 0.5 / V_of(a_bar[i - 1])
                a = 1 - hh / 2 * (c0 + c1 * (1 - hh * c0))
                V = a * a * V
    target = v if method.startswith("ancestral") or method == "DDIM" else V_of(a_bar[1])
    return abs(V - target) / target


v_data = 0.05
exact_ns = [25, 50, 100, 200, 400, 800]
rel_err = {k: np.array([gaussian_output_variance(n, v_data, k) for n in exact_ns]) for k in swd}
orders = {k: -np.polyfit(np.log(exact_ns), np.log(e), 1)[0] for k, e in rel_err.items()}
for k in swd:
    print(f"{k:22s} relative variance error at n = 25: {rel_err[k][0]:.2e}, n = 800: {rel_err[k][-1]:.2e}; "
          f"fitted order {orders[k]:.2f}")
""")

code(r"""
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
styles = {"ancestral, beta": "o-", "ancestral, beta_tilde": "s--", "reverse SDE (EM)": "^-", "DDIM": "D-",
          "prob. flow (Heun)": "v:"}
for k, v in swd.items():
    ax1.plot(step_counts, v, styles[k], label=k)
    ax2.loglog(exact_ns, rel_err[k], styles[k], label=f"{k} (order {orders[k]:.1f})")
ax1.axhspan(floor_mean - floor_std, floor_mean + floor_std, color="0.85", label="noise floor ± 1 sd")
ax1.set_xscale("log")
ax1.set_xticks(step_counts, [str(n) for n in step_counts])
ax1.minorticks_off()
ax1.set_xlabel("number of steps $n$")
ax1.set_ylabel("SWD to the target")
ax1.set_title("ring of 8 Gaussians, exact score", fontsize=10)
ax1.legend(fontsize=7)
ax2.loglog(exact_ns, 2.0 / np.array(exact_ns), color="0.6", lw=1, label="slope -1")
ax2.loglog(exact_ns, 30.0 / np.array(exact_ns, dtype=float)**2, color="0.6", lw=1, ls="--", label="slope -2")
ax2.set_xticks(exact_ns, [str(n) for n in exact_ns])
ax2.minorticks_off()
ax2.set_xlabel("number of steps $n$")
ax2.set_ylabel("relative error of the output variance")
ax2.set_title(r"data $\mathcal{N}(0, 0.05)$, exact computation", fontsize=10)
ax2.legend(fontsize=7)
fig.tight_layout()
plt.show()
""")

md(r"""
**Figure 2.** Quality against the number of steps with the exact score. Left: SWD to the ring of
eight Gaussians (std 0.15) for five samplers, with the noise floor in grey. Right: the exact
relative error of the output variance for Gaussian data, on log–log axes. The ancestral sampler,
Euler–Maruyama and DDIM are first-order methods — their errors halve when the number of steps
doubles — while Heun's method for the probability-flow ODE is second order. (A deterministic
sampler maps its starting noise to one fixed sample, so its SWD levels off at whatever the
floor happens to be for that draw.)
""")

code(r"""
for k in ("ancestral, beta", "reverse SDE (EM)", "DDIM"):
    verify.close(f"order-{k.split(' ')[0].strip(',')}", orders[k], 1.0,
                 f"{k} is a first-order method (Gaussian data, n = 25..800)",
                 atol=0.15, why="fitted log-log slope; higher-order terms bend it at small n")
verify.close("order-heun", orders["prob. flow (Heun)"], 2.0, "Heun's method for the probability-flow ODE is second order",
             atol=0.5, why="fitted log-log slope; the last steps, where the score changes fastest, lift it above 2")
verify.less_than("ring-samplers-200", max(v[-1] for v in swd.values()), floor_hi,
                 "with the exact score, all five samplers reach the ring's noise floor at n = 200",
                 why="noise-floor mean + 4 standard deviations (10 repeats)")
""")

md(r"""
Two lessons. First, the choice between $\beta_i$ and $\tilde\beta_i$ is a first-order effect of the
discretisation and fades as $n$ grows, in line with {prf:ref}`ddpm-prop-sde`; with few steps it
matters, and which one wins depends on the data. Nichol and Dhariwal {cite}`nichol2021improved`
learn an interpolation between the two for this reason. The fitted slope for $\tilde\beta_i$ (0.7
over this range) is below one because its error is dominated by the first steps, where
$\tilde\beta_i$ and $\beta_i$ differ at order one ($\tilde\beta_1 = 0$). Second, the stochastic samplers and DDIM
share the same order, and DDIM's advantage at few steps comes from its exactness in the
$(\bar y, \lambda)$ variables, not from a higher order; a genuinely second-order solver such as Heun's
reaches the floor with the fewest steps on this smooth target.
""")

# ---------------------------------------------------------------------------------------
md(r"""
## From points to pictures

Nothing above depended on the data being two-dimensional. The same loss and the same sampler
produce images once $\varepsilon_\theta$ is a network that can see images. The book's `TinyUNet` is a
two-level U-Net with about $2.6\times10^5$ parameters; we train it on the 1,797 handwritten digits
of $8\times8$ pixels that ship with scikit-learn, scaled to $[-1, 1]$, with $n = 100$ steps (the
scaled linear schedule). Training takes several minutes on a CPU, so the book ships the trained
weights. They were made by the package's command line — the one command that retrains them is

```bash
python -m ddpm_lib train --data digits --n-steps 100 --steps 4000 --batch-size 128 \
    --lr 2e-3 --ema-decay 0.999 --seed 0 --out runs/digits
python -m ddpm_lib export --checkpoint runs/digits/checkpoint.pt --out book/checkpoints/digits.pt
```

The first writes the full checkpoint `runs/digits/checkpoint.pt` (weights, EMA weights,
optimizer state: everything needed to resume); the second keeps only what sampling needs, the
EMA weights, in the book's 1 MB copy `book/checkpoints/digits.pt`. We load
it with `load_checkpoint`, which reads the file with `torch.load(..., weights_only=True)` (no code
in the file is ever run), and sample with the EMA weights.
""")

code(r"""
ckpt_path = Path("checkpoints/digits.pt")
if not ckpt_path.is_file():                              # run from the repository root instead of book/
    ckpt_path = Path("book") / ckpt_path
ck = load_checkpoint(ckpt_path)
model = ck.ema_model.eval()
digit_schedule = ck.schedule()
print(f"TinyUNet with {sum(p.numel() for p in model.parameters()):,} parameters, trained {ck.step} steps; "
      f"schedule with n = {digit_schedule.n}, abar_n = {float(digit_schedule.alpha_bars[-1]):.2g}")


def eps_model(x, i):
    with torch.no_grad():
        return model(x, i)


x_n = torch.randn(64, 1, 8, 8, generator=torch.Generator().manual_seed(21))
digit_path = ddpm_ancestral(eps_model, digit_schedule, x_n, generator=torch.Generator().manual_seed(22),
                            variance="beta", return_path=True)
samples = digit_path[-1]
""")

code(r"""
def image_grid(imgs, ncol):
    imgs = imgs.clamp(-1, 1).numpy()[:, 0]
    nrow = math.ceil(len(imgs) / ncol)
    canvas = np.full((nrow * 9 + 1, ncol * 9 + 1), -1.0)
    for k, im in enumerate(imgs):
        r, cc = divmod(k, ncol)
        canvas[1 + 9 * r: 9 + 9 * r, 1 + 9 * cc: 9 + 9 * cc] = im
    return canvas


digits = make_dataset("digits", None, dtype=torch.float64)
fig, axes = plt.subplots(1, 2, figsize=(9, 4.6))
for ax, imgs, title in ((axes[0], samples, "generated (ancestral, 100 steps)"),
                        (axes[1], digits[:64], "training digits")):
    ax.imshow(image_grid(imgs, 8), cmap="gray_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.axis("off")
plt.show()
""")

md(r"""
**Figure 3.** Left: 64 digits drawn by ancestral sampling from pure noise with the trained
`TinyUNet`. Right: 64 training images. At $8\times8$ pixels the generated digits are recognisable,
with the thick strokes and the occasional malformed stroke typical of a small model.
""")

code(r"""
show_steps = [0, 5, 15, 30, 50, 100]
x0_digit = digits[0:1]
fwd = [F.q_sample(digit_schedule, x0_digit, k, generator=torch.Generator().manual_seed(23))[0] if k else x0_digit
       for k in show_steps]
bwd = [digit_path[digit_schedule.n - k][0:1] for k in show_steps]      # digit_path[j] holds x_{n-j}
fig, axes = plt.subplots(2, len(show_steps), figsize=(9, 3.4))
for col, k in enumerate(show_steps):
    for row, im in enumerate((fwd[col], bwd[col])):
        axes[row, col].imshow(im[0, 0].clamp(-2.5, 2.5).numpy(), cmap="gray_r", vmin=-2.5, vmax=2.5,
                              interpolation="nearest")
        axes[row, col].set_xticks([])
        axes[row, col].set_yticks([])
    axes[0, col].set_title(f"$i = {k}$", fontsize=10)
axes[0, 0].set_ylabel("forward", fontsize=10)
axes[1, 0].set_ylabel("backward", fontsize=10)
plt.show()
""")

md(r"""
**Figure 4.** Top: the forward process on one training digit, $x_i \sim q(x_i\mid x_0)$ at a few
steps $i$. Bottom: one run of the reverse chain, read at the same steps, from pure noise at
$i = 100$ to a generated digit at $i = 0$. The coarse shape of the digit appears between
$i = 30$ and $i = 15$; the last steps only sharpen it.
""")

md(r"""
A number to go with the pictures: the SWD in $\R^{64}$ between the generated digits and the
training digits, next to the same distance for a second set of training digits (the noise floor
at this sample size) and for Gaussian noise.
""")

code(r"""
more = ddpm_ancestral(eps_model, digit_schedule, torch.randn(256, 1, 8, 8, generator=torch.Generator().manual_seed(24)),
                      generator=torch.Generator().manual_seed(25))
flat = lambda z: z.reshape(len(z), -1)
perm = torch.randperm(len(digits), generator=torch.Generator().manual_seed(26))
ref_a, ref_b = flat(digits[perm[:256]]), flat(digits[perm[256:512]])
swd_gen = sliced_wasserstein(flat(more), ref_a)
swd_floor = sliced_wasserstein(ref_b, ref_a)
swd_noise = sliced_wasserstein(torch.randn(256, 64, generator=torch.Generator().manual_seed(27)), ref_a)
print(f"SWD to training digits: generated {swd_gen:.3g}, other training digits {swd_floor:.3g}, noise {swd_noise:.3g}")
verify.less_than("digits-close-to-data", swd_gen, swd_floor + 0.25 * (swd_noise - swd_floor),
                 "the generated digits are much closer to the data than noise is",
                 why="within a quarter of the way from the noise floor to the distance of pure noise")
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Classifier-free guidance

A conditional model learns $\varepsilon_\theta(x_i, i, c)$ for a label $c$ — in practice one network that
also sees "no label", so that it learns the unconditional $\varepsilon_\theta(x_i, i)$ too. Classifier-free
guidance {cite}`ho2022classifierfree` samples with the combination

$$
\tilde s(x, t \mid c) = (1 + w)\, s(x, t\mid c) - w\, s(x, t), \qquad w \ge 0,
$$

(equivalently for $\varepsilon$, which is $-\sqrt{1-\abar}$ times the score). By Bayes' rule
$s(x, t\mid c) - s(x, t) = \nabla\log p_t(c\mid x)$, so

$$
\tilde s = s(x, t\mid c) + w\,\nabla \log p_t(c\mid x):
$$

the guided score is the conditional score plus $w$ times the gradient of an *implicit classifier*,
which pushes samples towards regions where the label $c$ is more certain. For $w = 0$ it is the
conditional score and the sampler targets $p(x\mid c)$; for $w > 0$ it does not target $p(x\mid c)$.

To see this without a network we label the components of a Gaussian mixture: four Gaussians at the
corners of a diamond, two of class 0 and two of class 1. Then $p(x\mid c)$ is the sub-mixture of
class $c$ and $p(x)$ the full mixture; both diffuse in closed form, so both scores are exact.
""")

code(r"""
std_c = 0.6
means_c = torch.tensor([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.0], [0.0, -2.0]])
labels_c = torch.tensor([0, 0, 1, 1])
full = GaussianMixture.isotropic(torch.full((4,), 0.25), means_c, std_c)
cond = {k: GaussianMixture.isotropic(torch.full((2,), 0.5), means_c[labels_c == k], std_c) for k in (0, 1)}

# Bayes: s(x|c) - s(x) = grad log p(c|x), with p(c|x) the summed responsibilities of class c's components
xs = torch.randn(50, 2, generator=torch.Generator().manual_seed(31)) * 2
xr = xs.clone().requires_grad_(True)
log_p_c0 = torch.log(full.responsibilities(xr)[:, labels_c == 0].sum(-1))
grad_log_p_c0, = torch.autograd.grad(log_p_c0.sum(), xr)
verify.close("guidance-bayes", cond[0].score(xs) - full.score(xs), grad_log_p_c0,
             "s(x|c) - s(x) = grad log p(c|x) (class 0, 50 random points)",
             atol=1e-10, why="two float64 computations of the same gradient")
""")

code(r"""
sched_cfg = scaled_linear_schedule(200)
eps_c, eps_u = cond[0].eps_fn(sched_cfg), full.eps_fn(sched_cfg)


def guided_eps(w):
    return lambda x, i: (1 + w) * eps_c(x, i) - w * eps_u(x, i)


Nc = 4000
x_start_c = torch.randn(Nc, 2, generator=torch.Generator().manual_seed(36))
guided = {w: ddpm_ancestral(guided_eps(w), sched_cfg, x_start_c, generator=torch.Generator().manual_seed(37),
                            variance="beta") for w in (0.0, 1.0, 3.0)}
cond_data = cond[0].sample(Nc, generator=torch.Generator().manual_seed(34))
cfl_mean, cfl_std = noise_floor(lambda m, gen: cond[0].sample(m, generator=gen), Nc, repeats=10,
                                generator=torch.Generator().manual_seed(35))
cfg_swd = {w: sliced_wasserstein(xg, cond_data) for w, xg in guided.items()}
p_other = {w: float(full.responsibilities(xg)[:, labels_c == 1].sum(-1).mean()) for w, xg in guided.items()}
p_other_true = float(full.responsibilities(cond_data)[:, labels_c == 1].sum(-1).mean())
print(f"noise floor {cfl_mean:.3g} +- {cfl_std:.2g}; conditional samples: mean p(class 1 | x) = {p_other_true:.3g}")
for w in guided:
    print(f"w = {w:g}: SWD to p(x | c=0) {cfg_swd[w]:.3g}, mean p(class 1 | x) {p_other[w]:.3g}")
""")

code(r"""
fig, axes = plt.subplots(1, 3, figsize=(10, 3.6), sharex=True, sharey=True)
for ax, (w, xg) in zip(axes, guided.items()):
    ax.scatter(cond_data[:1500, 0], cond_data[:1500, 1], s=2, color="0.75", label=r"$p(x \mid c = 0)$")
    ax.scatter(xg[:1500, 0], xg[:1500, 1], s=2, color="C0", alpha=0.6, label="guided samples")
    ax.scatter(means_c[labels_c == 1, 0], means_c[labels_c == 1, 1], marker="x", color="C3", s=60,
               label="class-1 modes")
    ax.set_title(f"$w = {w:g}$", fontsize=10)
    ax.set_aspect("equal")
axes[0].legend(fontsize=7, loc="lower left")
fig.tight_layout()
plt.show()
""")

md(r"""
**Figure 5.** Classifier-free guidance for class 0 (the modes on the horizontal axis) with exact
scores. Grey: samples of the true conditional $p(x\mid c = 0)$. Blue: the guided sampler. At
$w = 0$ the two clouds coincide. As $w$ grows the samples leave the region between the modes
and the side facing the class-1 modes (red crosses), and the clouds tighten: guidance trades
diversity for samples that are unmistakably of class 0, and its output is no longer $p(x\mid c)$
(its SWD to the conditional grows from the noise floor to about seven times it at $w = 3$).
""")

code(r"""
verify.less_than("cfg-w0-is-conditional", cfg_swd[0.0], cfl_mean + 4 * cfl_std,
                 "with w = 0 the guided sampler samples p(x | c): SWD within the noise floor",
                 why="noise-floor mean + 4 standard deviations (10 repeats)")
x_w0 = guided[0.0]
for j, name in ((0, "horizontal"), (1, "vertical")):
    second = float((x_w0[:, j]**2).mean())
    exact = float(cond[0].covariance()[j, j] + cond[0].mean()[j]**2)
    verify.within_standard_errors(f"cfg-w0-second-moment-{name}", second, exact,
                                  float((x_w0[:, j]**2).std()) / math.sqrt(Nc),
                                  f"with w = 0 the {name} second moment of the samples is that of p(x | c)")
with verify.wrong_variant("cfg-w3-is-conditional", "with w = 3 the guided sampler still samples p(x | c)"):
    verify.less_than("cfg-w3", cfg_swd[3.0], cfl_mean + 4 * cfl_std, "", why="noise floor")
verify.holds("cfg-sharpens", p_other[3.0] < p_other[1.0] < p_other_true,
             "guidance moves samples away from the other class: the mean p(class 1 | x) drops as w grows")
""")

md(r"""
## Summary

* Given $x_0$, the forward chain's backward step is Gaussian, with mean $\tilde\mu_i$ and variance
  $\tilde\beta_i = \beta_i(1-\abar_{i-1})/(1-\abar_i)$; writing $x_0$ through the noise gives DDPM's
  mean $\mu_\theta = (x_i - \beta_i\varepsilon_\theta/\sqrt{1-\abar_i})/\sqrt{\alpha_i}$.
* The variational bound is a sum of Gaussian KL terms, each a weighted noise-prediction error
  with weight $\lambda_i = \beta_i^2/(2\sigma_i^2\alpha_i(1-\abar_i))$; dropping the weights gives the
  simplified loss, which is denoising score matching.
* $\sigma_i^2 = \tilde\beta_i$ is exact for point-mass data and $\sigma_i^2 = \beta_i$ for $\N(0, I)$ data;
  for other data neither is exact, and the difference is a first-order discretisation effect.
* The ancestral step is the discrete backward update of the reverse SDE, equal to its
  Euler–Maruyama step up to $O(\beta^2)$; DDIM is an Euler step of the probability-flow ODE in the
  variables $(x/\sqrt{\abar}, \sqrt{(1-\abar)/\abar})$. All are first order; Heun's method is second.
* Classifier-free guidance adds $w\nabla\log p_t(c\mid x)$ to the conditional score; at $w = 0$ it
  samples $p(x\mid c)$ exactly, at $w > 0$ it sharpens the classes and samples something else.
""")

# ---------------------------------------------------------------------------------------
md(r"""
## Exercises

````{exercise} The posterior variance as a conditional variance
:label: ddpm-ex-posterior-variance

Fix $x_0$. Write $x_{i-1} = \sqrt{\abar_{i-1}}\,x_0 + \sqrt{1-\abar_{i-1}}\,\eta$ and
$x_i = \sqrt{\alpha_i}\,x_{i-1} + \sqrt{\beta_i}\,\xi$ with independent standard normal $\eta$, $\xi$.
Compute the covariance matrix of $(x_{i-1}, x_i)$ and use the Gaussian conditioning formula
$\operatorname{Var}(A\mid B) = \operatorname{Var}A - \operatorname{Cov}(A,B)^2/\operatorname{Var}B$ to derive
$\tilde\beta_i$ without completing a square.
````

````{solution} ddpm-ex-posterior-variance
:class: dropdown

$\operatorname{Var}x_{i-1} = 1-\abar_{i-1}$, $\operatorname{Cov}(x_{i-1}, x_i) = \sqrt{\alpha_i}(1-\abar_{i-1})$ and
$\operatorname{Var}x_i = \alpha_i(1-\abar_{i-1}) + \beta_i = 1-\abar_i$. Hence

$$
\operatorname{Var}(x_{i-1}\mid x_i) = (1-\abar_{i-1}) - \frac{\alpha_i(1-\abar_{i-1})^2}{1-\abar_i}
= \frac{(1-\abar_{i-1})(1 - \abar_i - \alpha_i + \alpha_i\abar_{i-1})}{1-\abar_i}
= \frac{(1-\abar_{i-1})\,\beta_i}{1-\abar_i} .
$$

The cell below checks the covariances with the library's `vp_step` and `vp_marginal`, and the result.
````
""")

code(r"""
eta, xi_n = sp.symbols("eta xi", real=True)
x_prev = F.vp_marginal(x0, abp, eta)
x_cur = F.vp_step(x_prev, beta, xi_n)
E = lambda expr: sp.expand(expr).subs({eta**2: 1, xi_n**2: 1}).subs({eta * xi_n: 0}).subs({eta: 0, xi_n: 0})
var_prev = E((x_prev - x_prev.subs({eta: 0}))**2)
cov = E((x_prev - x_prev.subs({eta: 0})) * (x_cur - x_cur.subs({eta: 0, xi_n: 0})))
var_cur = E((x_cur - x_cur.subs({eta: 0, xi_n: 0}))**2)
verify.symbolic_equal("exercise-var-cur", var_cur, 1 - ab, "Var x_i = 1 - abar_i given x_0")
verify.symbolic_equal("exercise-conditional-variance", var_prev - cov**2 / var_cur, beta_tilde,
                      "Var(x_{i-1} | x_i, x_0) = beta_tilde_i by the Gaussian conditioning formula")
""")

md(r"""
````{exercise} One ancestral step in code
:label: ddpm-ex-ancestral-step

Write `ancestral_step(x, eps_hat, z, i, schedule)` that returns one step of the ancestral sampler
with the posterior variance,
$x_{i-1} = \big(x_i - \beta_i\,\hat\varepsilon/\sqrt{1-\abar_i}\big)/\sqrt{\alpha_i} + \sqrt{\tilde\beta_i}\,z$.
Here `x` holds $x_i$ (shape `(batch, d)`), `eps_hat` the predicted noise at $x_i$, `z` the noise,
`i` the step in $\{1, \dots, n\}$ and `schedule` a `ddpm_lib.Schedule` ($\beta_i$ is
`schedule.betas[i]`, $\abar_i$ is `schedule.alpha_bars[i]`). Compute $\tilde\beta_i$ yourself from
$\beta_i$, $\abar_i$ and $\abar_{i-1}$. `check("ddpm-ex-ancestral-step", ancestral_step)` tests your
function with the noise off and on and names the usual mistakes: the sign of the $\hat\varepsilon$ term,
$\abar_{i-1}$ in place of $\abar_i$, $\beta_i$ in place of $\tilde\beta_i$, the variance in place of the
standard deviation, and a few more.
````

````{solution} ddpm-ex-ancestral-step
:class: dropdown

Read $\beta_i$, $\abar_i$ and $\abar_{i-1}$ at indices `i` and `i - 1`, subtract the scaled noise
prediction, divide by $\sqrt{\alpha_i}$ and add $\sqrt{\tilde\beta_i}\,z$. The reference code is in the
(hidden) cell below.
````
""")

code(r"""
def ancestral_step(x, eps_hat, z, i, schedule):
    b = float(schedule.betas[i])
    a_bar, a_bar_prev = float(schedule.alpha_bars[i]), float(schedule.alpha_bars[i - 1])
    beta_tilde_i = (1 - a_bar_prev) / (1 - a_bar) * b
    return (x - b / math.sqrt(1 - a_bar) * eps_hat) / math.sqrt(1 - b) + math.sqrt(beta_tilde_i) * z
""", tags=["solution", "hide-input"])

code(r"""
feedback = check("ddpm-ex-ancestral-step", ancestral_step)
print(feedback)
assert feedback.passed
""")

md(r"""
````{exercise} Between a point and white noise
:label: ddpm-ex-between

Let the data be $\N(0, v)$ in one dimension, $0 \le v \le 1$. (a) Show that the true reverse
variance is $\operatorname{Var}(x_{i-1}\mid x_i) = \beta_i V_{i-1}/V_i$ with
$V_k = \abar_k v + 1 - \abar_k$. (b) Show that it increases with $v$, from $\tilde\beta_i$ at $v = 0$ to
$\beta_i$ at $v = 1$, so that the two natural choices bracket the truth for every such Gaussian.
(c) What happens for $v > 1$?
````

````{solution} ddpm-ex-between
:class: dropdown

(a) As in the proof of {prf:ref}`ddpm-thm-variances` with $\operatorname{Var}x_{i-1} = V_{i-1}$ and
$V_i = \alpha_i V_{i-1} + \beta_i$: $V_{i-1} - \alpha_i V_{i-1}^2/V_i = V_{i-1}(V_i - \alpha_i V_{i-1})/V_i = \beta_i V_{i-1}/V_i$.

(b) $\beta_i V_{i-1}/(\alpha_i V_{i-1} + \beta_i)$ increases with $V_{i-1}$, which increases with $v$
(its $v$-coefficient is $\abar_{i-1} > 0$). At $v = 0$ it is $\tilde\beta_i$, at $v = 1$ it is
$\beta_i$ (both checked in the main text).

(c) For $v > 1$ the true reverse variance exceeds $\beta_i$: data spread wider than the noise needs
more noise in the reverse step than either choice gives.
````
""")

code(r"""
v = sp.symbols("v", nonnegative=True)
V_prev = abp * v + 1 - abp
cond_var_v = reverse_conditional_variance(V_prev)
verify.symbolic_equal("exercise-between-formula", cond_var_v, beta * V_prev / (alpha * V_prev + beta),
                      "for N(0, v) data the reverse variance is beta_i V_{i-1} / V_i")
verify.symbolic_equal("exercise-between-derivative", sp.diff(cond_var_v, v),
                      abp * beta**2 / (alpha * V_prev + beta)**2,
                      "d/dv of the reverse variance is abar_{i-1} beta_i^2 / V_i^2 > 0: it increases with v")
""")

code(r"""
verify.summary(expected=49)
""")


if __name__ == "__main__":
    main("ddpm_discrete")
