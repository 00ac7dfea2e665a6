"""Depth: P(t) of bias-free width-64 networks with 1 to 8 hidden layers (Mingard et al. 2019, Fig. 4).

ReLU networks should put more and more mass on t = 0 (P(t) turns convex)
as layers are added; linear networks compute a bias-free perceptron, so
their P(t) should stay uniform at 2^-7 whatever the depth.

    python experiments/depth.py [--quick] [--out DIR] [--seed S] [--threads T]
"""

import numpy as np

import common
from common import Section, fmt_interval, markdown_table, weighted_mean_interval, wilson

NAME = "depth"
N_BITS = 7
WIDTH = 64
ACTIVATIONS = ("relu", "linear")
FULL = {"depths": (1, 2, 3, 4, 5, 6, 7, 8), "samples": 200_000}
QUICK = {"depths": (1, 2, 4), "samples": 20_000}
ALPHA = 0.01


def _p0_figure(rows, depths):
    fig, ax = common.plt.subplots(figsize=(7, 4.6))
    for act, color in zip(ACTIVATIONS, ("C0", "C2")):
        p = np.array([r["p_t0"] for r in rows if r["activation"] == act])
        ax.errorbar(depths, p[:, 0], yerr=[p[:, 0] - p[:, 1], p[:, 2] - p[:, 0]], fmt="o-", ms=4, capsize=3,
                    color=color, label=f"{act} hidden layers")
    ax.axhline(2.0**-N_BITS, color="C3", ls=":", lw=1.2, label="bias-free perceptron: $2^{-7}$ (Theorem 4.1)")
    ax.set_yscale("log")
    ax.set_xticks(depths)
    ax.set_xlabel(f"number of hidden layers (width {WIDTH}, no biases, σw = 1)")
    ax.set_ylabel("P(t = 0), probability of the constant 0")
    ax.set_title("P(t = 0) against depth, n = 7 (95% Wilson intervals)", fontsize=11)
    ax.text(0.99, 0.03, "counting measure: P(t = 0) = $2^{-128}$ ≈ 3e-39 (off scale)", transform=ax.transAxes,
            ha="right", fontsize=8, color="0.35")
    return common.finish_axes(fig, ax)


def main(argv=None):
    """Run the experiment; return its results dictionary."""
    exp, _ = common.Experiment.from_argv(NAME, __doc__, argv)
    sizes = exp.sizes(QUICK, FULL)
    depths = list(sizes["depths"])
    m = 2**N_BITS
    rows = []
    for act in ACTIVATIONS:
        for depth in depths:
            run = exp.sample(prior="mlp", widths=(WIDTH,) * depth, activation=act, bias=False, sigma_w=1.0,
                             n=N_BITS, samples=sizes["samples"])
            values = common.measures_of(run, ["ones", "entropy"])
            counts = run.histogram.counts
            k = common.ones_distribution(values["ones"], counts, m)
            samples = run.histogram.samples
            chi2, dof, p_value = common.chi_square_uniform(k[:m])
            rows.append({"activation": act, "depth": depth, "samples": samples, "p_t": k / samples,
                         "p_t0": wilson(k[0], samples), "t_m_count": int(k[m]),
                         "mean_entropy": weighted_mean_interval(values["entropy"], counts),
                         "chi2": chi2, "p_value": p_value})

    relu = [r for r in rows if r["activation"] == "relu"]
    linear = [r for r in rows if r["activation"] == "linear"]
    relu_p0 = [r["p_t0"][0] for r in relu]
    relu_increasing = all(b > a for a, b in zip(relu_p0, relu_p0[1:]))
    threshold = ALPHA / len(linear)
    linear_min_p = min(r["p_value"] for r in linear)
    linear_uniform = linear_min_p > threshold

    fig_relu = exp.save_figure(common.ones_figure(
        [(f"{r['depth']} hidden layer{'s' if r['depth'] > 1 else ''}", r["p_t"]) for r in relu], m,
        f"ReLU, width {WIDTH}, no biases, n = 7: P(t) by depth",
        reference=("bias-free perceptron: $2^{-7}$", 2.0**-N_BITS)), "p_t_relu")
    fig_linear = exp.save_figure(common.ones_figure(
        [(f"{r['depth']} hidden layer{'s' if r['depth'] > 1 else ''}", r["p_t"]) for r in linear], m,
        f"Linear activation, width {WIDTH}, no biases, n = 7: P(t) by depth",
        reference=("Lemma 5.3: $P(t) = 2^{-7}$ for $t < 128$", 2.0**-N_BITS)), "p_t_linear")
    fig_p0 = exp.save_figure(_p0_figure(rows, depths), "p_t0_vs_depth")

    table = markdown_table(
        ["activation", "hidden layers", "samples", "P(t = 0) [95% CI]", "mean entropy (bits) [95% CI]",
         "χ² p-value (uniform t < 128)"],
        [[r["activation"], r["depth"], f"{r['samples']:,}", fmt_interval(*r["p_t0"], digits=4),
          fmt_interval(*r["mean_entropy"], digits=4), common.fmt_pvalue(r["p_value"])] for r in rows])
    relu_text = ("increased with every added layer" if relu_increasing
                 else "did not increase with every added layer")
    linear_text = (f"no depth rejects a uniform P(t) at the {ALPHA:g} level (Bonferroni over {len(linear)} "
                   f"depths: smallest p = {linear_min_p:.3g} > {threshold:.2g})" if linear_uniform else
                   f"some depth rejects a uniform P(t) (smallest p = {linear_min_p:.3g} <= {threshold:.2g})")
    if relu_increasing and linear_uniform:
        comparison = (f"Agrees: with ReLU, P(t = 0) {relu_text}; with linear activations {linear_text}. "
                      f"The paper's figure uses its own sample sizes and sampler, so we compare shapes and "
                      f"trends, not individual values.")
    else:
        comparison = (f"Differs: with ReLU, P(t = 0) {relu_text}; with linear activations {linear_text}. "
                      f"Neighbouring depths with overlapping intervals can swap order by sampling noise "
                      f"({sizes['samples']:,} samples per depth); a χ² rejection for linear networks would "
                      f"point at the sampler, since Lemma 5.3 is exact.")
    section = Section(
        title="3. Depth: ReLU layers make P(t) convex; linear layers keep it uniform",
        claim=("Adding ReLU layers to a bias-free network makes the bias towards low entropy monotonically "
               "stronger: P(t = 0) grows with depth and P(t) turns convex (mass at the ends t = 0 and "
               "t = 2^n - 1). A network with linear activations computes a bias-free perceptron with "
               "sign-symmetric weights, so its P(t) stays uniform at 2^-n for any depth."),
        paper=("Mingard et al. (2019), *Neural networks are a priori biased towards Boolean functions with "
               "low entropy*, arXiv:1909.11522: Fig. 4 (P(t) of ReLU networks with 1 to 8 hidden layers, n = 7), "
               "their proof that adding ReLU layers makes the bias towards low entropy monotonically "
               "stronger, and Lemma 5.3 (linear activations)."),
        published=("Qualitative: P(t) of ReLU networks becomes increasingly convex with depth, with P(t = 0) "
                   "growing from the perceptron's 2^-7; linear networks give exactly P(t) = 2^-7 for "
                   "t < 128. The paper reports the ReLU curves as a figure; we quote no value read off it."),
        ours=(f"ReLU: P(t = 0) = {fmt_interval(*relu[0]['p_t0'], digits=4)} with {relu[0]['depth']} hidden "
              f"layer(s) and {fmt_interval(*relu[-1]['p_t0'], digits=4)} with {relu[-1]['depth']}; it "
              f"{relu_text}. Linear: smallest χ² p-value of a uniform P(t) over the depths {linear_min_p:.3g}; "
              f"P(t = 0) = "
              f"{fmt_interval(*linear[-1]['p_t0'], digits=4)} at {linear[-1]['depth']} layers."),
        comparison=comparison,
        details=[
            table,
            (f"Set-up: n = 7 inputs {{0,1}}^7, hidden layers of width {WIDTH}, no biases anywhere (so the linear "
             f"network is exactly a bias-free perceptron, and the ReLU and linear networks differ only in "
             f"the activation), weights N(0, σw²/fan_in) with σw = 1 (for bias-free ReLU or linear "
             f"networks the scale does not change the function). Without biases input 0 always maps to 0, "
             f"so t = 128 cannot occur. Intervals: Wilson for P(t = 0), normal approximation for the mean "
             f"entropy. Under the counting measure the mean entropy is about 0.994 bits."),
        ],
        figures=[(fig_relu, "P(t) of ReLU networks by depth (log scale): the ends t = 0 and t = 127 gain mass "
                            "with every layer; counting measure's Binomial(128, 1/2) for reference."),
                 (fig_linear, "P(t) of linear networks by depth: flat at 2^-7 whatever the depth."),
                 (fig_p0, "P(t = 0) against depth for ReLU and linear networks.")],
    )
    results = {"configs": [{k: v for k, v in r.items() if k != "p_t"} for r in rows],
               "relu_p_t0": relu_p0, "relu_increasing": relu_increasing,
               "linear_min_p_value": linear_min_p, "linear_uniform": linear_uniform}
    return exp.finish(section, results)


if __name__ == "__main__":
    common.run_script(main)
