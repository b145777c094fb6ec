"""Draw ``hushdoc bench`` figures as one PNG that a person reads at a glance (matplotlib).

matplotlib is an optional extra (``pip install 'hushdoc[bench]'``), imported only here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import HushdocError
from rag.eval.bench.run import BenchReport
from rag.eval.bench.table import describe_load
from rag.store.atomic import write_atomic

if TYPE_CHECKING:  # matplotlib is optional: imported only when a plot is drawn
    from matplotlib.axes import Axes

PIPELINE, RAW, REFERENCE = "#2b6cb0", "#a0aec0", "#e07b39"


def plot_report(report: BenchReport, path: Path) -> None:
    """Four panels: indexing speed, indexing phases, search latency by size, generation."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only; never a window
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise HushdocError(
            "--plot needs matplotlib, which is not installed. Install it with "
            "pip install 'hushdoc[bench]' (or pip install matplotlib), or leave out --plot."
        ) from exc
    import io

    figure, axes = plt.subplots(2, 2, figsize=(10, 7.2), dpi=80)
    _indexing(axes[0][0], report)
    _phases(axes[0][1], report)
    _search(axes[1][0], report)
    _generation(axes[1][1], report)
    figure.suptitle(
        f"hushdoc bench, {report.when[:10]}: {report.indexing.documents} documents, "
        f"{report.machine.cpus} CPUs, {report.machine.threads} thread(s) used, "
        f"load average {describe_load(report.machine)}",
        fontsize=11,
    )
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    try:
        write_atomic(path, buffer.getvalue())
    except OSError as exc:
        raise HushdocError(f"Cannot write the plot to {path} ({exc.strerror or exc}).") from exc


def _indexing(ax: Axes, report: BenchReport) -> None:
    e = report.embedding
    names = ["Hushdoc\n(end to end)", f"bare\n{e.backend}", "bare torch\nfp32"]
    rates = [report.indexing.chunks_per_s, e.raw_chunks_per_s, e.torch_fp32_chunks_per_s]
    bars = ax.bar(names, rates, color=[PIPELINE, RAW, REFERENCE])
    ax.bar_label(bars, fmt="%.1f")
    ax.set_ylim(0, max(rates) * 1.15)
    ax.set_ylabel("chunks per second")
    ax.set_title(
        f"Indexing: {report.index_vs_raw_embed:.2f}x the bare backend, "
        f"{report.speedup_vs_torch_fp32:.2f}x torch fp32",
        fontsize=10,
    )


def _phases(ax: Axes, report: BenchReport) -> None:
    i = report.indexing
    phases = {**i.phase_seconds, "wall clock": i.seconds}
    bars = ax.barh(
        list(phases), list(phases.values()), color=[RAW] * len(i.phase_seconds) + [PIPELINE]
    )
    ax.bar_label(bars, fmt="%.1f s")
    ax.set_xlim(0, max(phases.values()) * 1.2)
    ax.invert_yaxis()
    ax.set_xlabel("seconds (load and chunk run beside embed)")
    rss = f", peak RSS {i.peak_rss_mb:,.0f} MB" if i.peak_rss_mb is not None else ""
    ax.set_title(f"Indexing phases, {i.chunks} passages{rss}", fontsize=10)


def _search(ax: Axes, report: BenchReport) -> None:
    dense = report.retrieval.dense
    sizes = [s.vectors for s in dense]
    ax.plot(sizes, [s.exact.p95_ms for s in dense], "o-", color=RAW, label="exact, p95")
    ax.plot(
        sizes, [s.approximate.p95_ms for s in dense], "o-", color=PIPELINE, label="approximate, p95"
    )
    for s in dense:
        ax.annotate(
            f"recall {s.approximate_recall_at_10:.2f}",
            (s.vectors, s.approximate.p95_ms),
            textcoords="offset points",
            xytext=(0, 7),
            ha="center",
            fontsize=8,
        )
    ax.plot(
        sizes,
        [s.default.p95_ms for s in dense],
        "o",
        markersize=11,
        markerfacecolor="none",
        color="black",
        label="what a workspace uses",
    )
    ax.plot([100_000, 1_000_000], [50, 100], "x", color="red", label="targets (p95)")
    r = report.retrieval
    ax.plot([r.chunks], [r.hybrid.p95_ms], "s", color=REFERENCE, label="hybrid on the corpus, p95")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("passages (vectors)")
    ax.set_ylabel("milliseconds per query")
    ax.set_title("Search latency (dense: synthetic clustered vectors)", fontsize=10)
    tallest = max([r.hybrid.p95_ms, 100.0, *(s.exact.p95_ms for s in dense)])
    ax.set_ylim(top=tallest * 30)  # room above the lines for the legend
    ax.legend(fontsize=8, loc="upper left", ncol=2)


def _generation(ax: Axes, report: BenchReport) -> None:
    g = report.generation
    names = ["Hushdoc", "bare\nllama-cpp-python"]
    bars = ax.bar(names, [g.engine_tokens_per_s, g.raw_tokens_per_s], color=[PIPELINE, RAW])
    ax.bar_label(
        bars,
        labels=[
            f"{g.engine_tokens_per_s:.1f} tok/s\nfirst token {g.engine_first_token_s:.2f} s",
            f"{g.raw_tokens_per_s:.1f} tok/s\nfirst token {g.raw_first_token_s:.2f} s",
        ],
        fontsize=8,
    )
    ax.set_ylabel("tokens per second")
    ax.set_ylim(0, max(g.engine_tokens_per_s, g.raw_tokens_per_s) * 1.35)
    ax.set_xlabel(
        f"{g.prompt_tokens}-token prompts, up to {g.max_tokens} tokens, median of {g.runs}"
    )
    ax.set_title(f"Generation: {report.gen_vs_raw:.2f}x bare llama-cpp-python", fontsize=10)
