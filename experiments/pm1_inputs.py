"""{-1,+1} inputs: the two constant functions are the most frequent (Yang & Salman 2019).

Samples 7-40-40-1 ReLU networks with σw² = σb² = 2 on {-1,+1}^7 (encoding
``pm1``) and, for comparison, on {0,1}^7 with the same scales.

    python experiments/pm1_inputs.py [--quick] [--out DIR] [--seed S] [--threads T]
"""

import math

import numpy as np

import common
from common import Section, fmt_interval, markdown_table, wilson

NAME = "pm1_inputs"
N_BITS = 7
SIGMA = math.sqrt(2.0)   # sigma_w^2 = sigma_b^2 = 2
ENCODINGS = ("pm1", "binary")
FULL = {"samples": 2 * 10**6}
QUICK = {"samples": 50_000}
TOP = 5


def _rank_figure(rows):
    fig, ax = common.plt.subplots(figsize=(7, 4.6))
    for row, color in zip(rows, ("C0", "C2")):
        counts = row["counts"]
        ranks = np.arange(1, counts.shape[0] + 1)
        ax.step(ranks, counts / row["samples"], where="post", color=color, label=row["label"])
        ax.plot([1, 2], counts[:2] / row["samples"], "o", ms=5, color=color, mfc="none",
                label=f"ranks 1–2 ({'both constants' if row['top_two_constant'] else 'not both constants'})")
    ax.axhline(1 / rows[0]["samples"], color="k", ls=":", lw=0.8, label="one sample (resolution)")
    ax.text(0.98, 0.55, "counting measure: every function has P(f) = $2^{-128}$ ≈ 3e-39", transform=ax.transAxes,
            fontsize=8, color="0.35", ha="right")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rank of function (most frequent = 1)")
    ax.set_ylabel("P(f), fraction of samples")
    return common.finish_axes(fig, ax, "7-40-40-1 ReLU, σw² = σb² = 2: rank plot on {-1,+1}^7 and {0,1}^7")


def main(argv=None):
    """Run the experiment; return its results dictionary."""
    exp, _ = common.Experiment.from_argv(NAME, __doc__, argv)
    sizes = exp.sizes(QUICK, FULL)
    m = 2**N_BITS
    rows = []
    for encoding in ENCODINGS:
        run = exp.sample(prior="mlp", widths=(40, 40), activation="relu", sigma_w=SIGMA, sigma_b=SIGMA,
                         encoding=encoding, n=N_BITS, samples=sizes["samples"])
        values = common.measures_of(run, ["ones", "klz"])
        counts, ones = run.histogram.counts, values["ones"]
        samples = run.histogram.samples
        constant = (ones == 0) | (ones == m)
        k = common.ones_distribution(ones, counts, m)
        texts = run.histogram.texts(slice(0, TOP))
        rows.append({
            "encoding": encoding, "label": "{-1,+1}^7 (pm1)" if encoding == "pm1" else "{0,1}^7 (binary)",
            "samples": samples, "distinct": run.histogram.distinct, "counts": counts, "p_t": k / samples,
            "top_two_constant": bool(constant[:2].all()) and counts.shape[0] >= 2,
            "p_zero": wilson(k[0], samples), "p_one": wilson(k[m], samples),
            "p_constant": wilson(k[0] + k[m], samples),
            "p_rank3": wilson(counts[2], samples) if counts.shape[0] > 2 else (0.0, 0.0, 0.0),
            "top": [{"function": t, "p": c / samples, "klz": float(z), "ones": int(o)}
                    for t, c, z, o in zip(texts, counts[:TOP], values["klz"][:TOP], ones[:TOP])],
        })
    pm1, binary = rows
    fig_rank = exp.save_figure(_rank_figure(rows), "rank")
    fig_pt = exp.save_figure(common.ones_figure([(r["label"], r["p_t"]) for r in rows], m,
                                                "7-40-40-1 ReLU, σw² = σb² = 2: P(t) by input encoding"), "p_t")

    top_rows = []
    for row in rows:
        for rank, item in enumerate(row["top"], start=1):
            text = item["function"]
            shown = f"all {text[0]}s" if len(set(text)) == 1 else f"`{text[:24]}…`"
            kind = "constant" if item["ones"] in (0, m) else f"t = {item['ones']}"
            top_rows.append([row["encoding"], rank, f"{item['p']:.4g}", f"{item['klz']:g}", kind, shown])
    table = markdown_table(["encoding", "rank", "P(f)", "K_LZ", "ones", "function (first characters)"], top_rows)
    summary = markdown_table(
        ["encoding", "samples", "distinct", "P(constant 0)", "P(constant 1)", "P(either constant)", "P(rank 3)"],
        [[r["encoding"], f"{r['samples']:,}", f"{r['distinct']:,}", fmt_interval(*r["p_zero"], digits=4),
          fmt_interval(*r["p_one"], digits=4), fmt_interval(*r["p_constant"], digits=4),
          fmt_interval(*r["p_rank3"], digits=3)] for r in rows])
    ratio = pm1["p_constant"][0] / 2 / max(pm1["p_rank3"][0], 1 / pm1["samples"])
    if pm1["top_two_constant"]:
        comparison = (f"Agrees: on {{-1,+1}}^7 the two most frequent functions are the constants, each about "
                      f"{ratio:.0f} times as frequent as the third. The published figure has 10^4 samples, so "
                      f"it resolves only the head of the rank plot; the combined probability depends on "
                      f"the scales (section 6 shows how strongly P(constant) depends on σw).")
    else:
        comparison = ("Differs: the two most frequent functions are not both constant. With 10^4 samples the "
                      "paper resolves only the head of the distribution; check the scales (σw² = σb² = 2) and "
                      "the encoding, which decide how often the constants appear.")
    section = Section(
        title="5. {-1,+1} inputs: the constant functions are the most frequent",
        claim=("For a 7-40-40-1 ReLU network with σw² = σb² = 2 on the inputs {-1,+1}^7, the most frequent "
               "functions are the two constant functions, which together take a large share of the "
               "probability."),
        paper=("Yang & Salman (2019), *A fine-grained spectral perspective on neural networks*, "
               "arXiv:1907.10599: the probability-vs-rank replication of Valle-Pérez et al. with 10^4 "
               "random ReLU networks on {±1}^7, W ~ N(0, σw²/fan_in), b ~ N(0, σb²), σw² = σb² = 2 "
               "(their notebook ClarifyingSimplicityBias.ipynb)."),
        published=("Qualitative: a rank plot whose head holds a few very frequent functions. We found no "
                   "number for the constants' combined probability in the text we could check, so we report "
                   "ours and the rank of each constant."),
        ours=(f"On {{-1,+1}}^7 ranks 1 and 2 are {'the two constants' if pm1['top_two_constant'] else 'not both constants'}; "
              f"P(either constant) = {fmt_interval(*pm1['p_constant'], digits=4)} (95% Wilson interval, "
              f"{pm1['samples']:,} samples); the third most frequent function has P = "
              f"{pm1['p_rank3'][0]:.3g}. On {{0,1}}^7 with the same scales: P(either constant) = "
              f"{fmt_interval(*binary['p_constant'], digits=4)}."),
        comparison=comparison,
        details=[
            summary,
            table,
            ("Conventions: pysimbias's `pm1` encoding lists {-1,+1}^7 in the same order as {0,1}^7 (input i "
             "is i's binary expansion with 0 written as -1, most significant bit first), which is the order of "
             "`itertools.product([-1, 1], repeat=7)` used by Yang & Salman; weights N(0, σw²/fan_in), biases "
             "N(0, σb²), output 1 iff the last pre-activation is > 0 — the same as their sampler. On {0,1}^n "
             "input 0 is the origin, where the first layer sees only its biases; on {-1,+1}^n every input has "
             "the same norm. Under the "
             "counting measure the two constants have probability 2·2^-128 ≈ 6e-39."),
        ],
        figures=[(fig_rank, "Rank plot (log–log) on {-1,+1}^7 and on {0,1}^7, the two most frequent functions "
                            "marked."),
                 (fig_pt, "P(t) on both encodings (log scale), with the counting measure's Binomial(128, 1/2).")],
    )
    results = {"configs": [{k: v for k, v in r.items() if k not in ("counts", "p_t")} for r in rows],
               "pm1_top_two_constant": pm1["top_two_constant"], "pm1_p_constant": pm1["p_constant"]}
    return exp.finish(section, results)


if __name__ == "__main__":
    common.run_script(main)
