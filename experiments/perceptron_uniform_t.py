"""Bias-free perceptron: P(t) = 2^-n for every t (Mingard et al. 2019, Theorem 4.1).

Samples perceptrons f(x) = [w.x > 0] on {0,1}^7 with Gaussian and uniform
weight laws at several weight scales, and tests that the number of ones t
is uniform on 0..127 (input 0 always maps to 0, so t = 128 never occurs).

    python experiments/perceptron_uniform_t.py [--quick] [--out DIR] [--seed S] [--threads T]
"""

import numpy as np
from scipy.stats import norm

import common
from common import Section, fmt_interval, markdown_table, wilson

NAME = "perceptron_uniform_t"
N_BITS = 7
LAWS = ("gaussian", "uniform")
FULL = {"sigmas": (0.1, 1.0, 10.0), "samples": 10**7}
QUICK = {"sigmas": (1.0, 10.0), "samples": 200_000}
ALPHA = 0.01


def _deviation_figure(rows, m):
    """Relative deviation of P(t) from 2^-n per law, pooled over σw, with the sampling-noise band."""
    fig, ax = common.plt.subplots(figsize=(7, 4.6))
    t = np.arange(m)
    for law, color in zip(LAWS, ("C0", "C2")):
        mine = [r for r in rows if r["law"] == law]
        samples = sum(r["samples"] for r in mine)
        p = sum(r["p_t"] * r["samples"] for r in mine) / samples
        half = common.Z95 * m * np.sqrt((1 / m) * (1 - 1 / m) / samples)
        sigmas = ", ".join(f"{r['sigma_w']:g}" for r in mine)
        ax.plot(t, m * p[:m] - 1, "o-", ms=2.5, lw=0.8, color=color, label=f"{law} law, pooled over σw = {sigmas}")
        ax.axhspan(-half, half, color=color, alpha=0.12, label=f"95% band of a uniform P(t), {samples:,} samples")
    ax.axhline(0, color="C3", lw=1, ls=":")
    ax.set_xlabel("t, number of inputs mapped to 1")
    ax.set_ylabel("relative deviation  $P(t)\\,/\\,2^{-7} - 1$")
    return common.finish_axes(fig, ax, "Deviation of P(t) from $2^{-7}$ (Theorem 4.1 predicts 0)", legend_size=7)


def main(argv=None):
    """Run the experiment; return its results dictionary."""
    exp, _ = common.Experiment.from_argv(NAME, __doc__, argv)
    sizes = exp.sizes(QUICK, FULL)
    m = 2**N_BITS
    rows = []
    for law in LAWS:
        for sigma_w in sizes["sigmas"]:
            run = exp.sample(prior="perceptron", bias=False, n=N_BITS, law=law, sigma_w=sigma_w,
                             samples=sizes["samples"])
            ones = common.measures_of(run, ["ones"])["ones"]
            k = common.ones_distribution(ones, run.histogram.counts, m)
            samples = run.histogram.samples
            chi2, dof, p_value = common.chi_square_uniform(k[:m])
            expected = samples / m
            z = (k[:m] - expected) / np.sqrt(expected * (1 - 1 / m))
            rows.append({"law": law, "sigma_w": sigma_w, "samples": samples, "p_t": k / samples,
                         "k_t0": int(k[0]), "p_t0": wilson(k[0], samples), "t_m_count": int(k[m]), "chi2": chi2, "dof": dof,
                         "p_value": p_value, "max_abs_z": float(np.abs(z).max())})

    pooled_k0 = sum(r["k_t0"] for r in rows)
    pooled_n = sum(r["samples"] for r in rows)
    # One family of tests at level ALPHA (Bonferroni): the χ² test of each configuration and the pooled P(t = 0).
    tests = len(rows) + 1
    threshold = ALPHA / tests
    pooled = wilson(pooled_k0, pooled_n, z=float(norm.isf(threshold / 2)))
    min_p = min(r["p_value"] for r in rows)
    covers = pooled[1] <= 2.0**-N_BITS <= pooled[2]
    uniform_all = min_p > threshold and covers and all(r["t_m_count"] == 0 for r in rows)

    curves = [(f"{r['law']}, σw = {r['sigma_w']:g}", r["p_t"]) for r in rows]
    fig_pt = exp.save_figure(common.ones_figure(
        curves, m, "Bias-free perceptron, n = 7: P(t) for two laws and several σw",
        reference=("Theorem 4.1: $P(t) = 2^{-7}$ for $t < 128$", 2.0**-N_BITS)), "p_t")
    fig_dev = exp.save_figure(_deviation_figure(rows, m), "p_t_deviation")

    table = markdown_table(
        ["law", "σw", "samples", "P(t = 0) [95% CI]", "χ² (dof)", "p-value", "max \\|z\\| over t", "# t = 128"],
        [[r["law"], f"{r['sigma_w']:g}", f"{r['samples']:,}", fmt_interval(*r["p_t0"], digits=4),
          f"{r['chi2']:.1f} ({r['dof']})", common.fmt_pvalue(r["p_value"]), f"{r['max_abs_z']:.2f}", r["t_m_count"]]
         for r in rows])
    if uniform_all:
        comparison = (f"Agrees. No configuration rejects a uniform P(t) on t = 0..127 at the {ALPHA:g} level "
                      f"(Bonferroni over {tests} tests: p > {threshold:.2g}); the pooled P(t = 0) interval at the same "
                      f"level contains 2^-7, and t = 128 never occurred.")
    else:
        comparison = (f"Differs: the smallest χ² p-value is {min_p:.3g} (threshold {threshold:.2g}), the pooled "
                      f"P(t = 0) interval {'contains' if covers else 'excludes'} 2^-7, or t = 128 occurred. The theorem is exact, so a rejection points at the sampler (the float32 "
                      f"forward pass or the weight law's symmetry) rather than at the paper; rerun with "
                      f"another --seed to rule out chance.")
    section = Section(
        title="1. Bias-free perceptron: P(t) = 2^-n",
        claim=("For a perceptron without bias, f(x) = [w·x > 0] on {0,1}^n, with any weight law that is "
               "symmetric under flipping the sign of each coordinate, the number of ones t is uniform: "
               "P(t) = 2^-n for t = 0, ..., 2^n - 1, whatever the scale of the weights."),
        paper=("Mingard, Skalse, Valle-Pérez, Martínez-Rubio, Mikulik & Louis (2019), *Neural networks are "
               "a priori biased towards Boolean functions with low entropy*, arXiv:1909.11522, Theorem 4.1."),
        published=("Exactly P(t) = 2^-7 = 0.0078125 for every t = 0..127 (n = 7); t = 128 is impossible "
                   "because input 0 always gives w·0 = 0, hence output 0."),
        ours=(f"P(t = 0) pooled over {len(rows)} configurations ({pooled_n:,} samples) = "
              f"{fmt_interval(*pooled, digits=4)} ({100 * (1 - threshold):.2f}% Wilson interval); smallest χ² p-value over the "
              f"configurations {min_p:.3g}; t = 128 occurred {sum(r['t_m_count'] for r in rows)} times."),
        comparison=comparison,
        details=[
            table,
            ("Method: each configuration is an independent run (seed = base seed + its index). The χ² test "
             "compares the counts of t = 0..127 with equal expected counts (p-value from the Wilson–Hilferty "
             "approximation); z is each t's count in standard errors from N/128. σw enters the theorem only "
             "through the sign of w·x, so the σw sweep checks the sampler's scale handling, while the uniform "
             "law checks that the result needs only sign symmetry, not Gaussian weights. Under the counting "
             "measure P(t) would instead be Binomial(128, 1/2), with P(t = 0) = 2^-128."),
        ],
        figures=[(fig_pt, "P(t) of every configuration (log scale) against the theorem's 2^-7 and the counting "
                          "measure's Binomial(128, 1/2)."),
                 (fig_dev, "Relative deviation of P(t) from 2^-7 for each law (pooled over σw), with the 95% "
                           "band expected from sampling noise alone.")],
    )
    results = {
        "configs": [{k: v for k, v in r.items() if k != "p_t"} for r in rows],
        "pooled_p_t0": pooled,
        "min_p_value": min_p,
        "uniform": uniform_all,
    }
    return exp.finish(section, results)


if __name__ == "__main__":
    common.run_script(main)
