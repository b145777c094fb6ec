"""The ``hushdoc bench`` figures as a short table, for people (``--json`` has them all)."""

from __future__ import annotations

from rag.eval.bench.run import BenchReport, Machine


def format_report(report: BenchReport) -> str:
    """A short table of the figures, for people; --json has them all."""
    i, e, r, g = report.indexing, report.embedding, report.retrieval, report.generation
    machine = report.machine
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in i.phase_seconds.items())

    def row(label: str, figures: str) -> str:
        return f"  {label:<38}{figures}"

    def mb(value: float | None) -> str:
        return "n/a" if value is None else f"{value:,.0f} MB"

    lines = [
        f"Corpus: {report.corpus} ({i.documents} documents, {i.pages} pages, {i.chunks} passages)",
        f"Machine: {machine.cpus} CPUs, {machine.threads} thread(s) used; load average "
        f"{describe_load(machine)}",
        "",
        "Indexing",
        row("end to end", f"{i.chunks_per_s:7.2f} chunks/s  {i.pages_per_s:6.2f} pages/s"),
        row("phases (busy seconds)", phases),
        row(f"bare {e.backend} (batch {e.batch})", f"{e.raw_chunks_per_s:7.2f} chunks/s"),
        row("bare torch fp32", f"{e.torch_fp32_chunks_per_s:7.2f} chunks/s"),
        row("index_vs_raw_embed", f"{report.index_vs_raw_embed:7.2f}"),
        row("speedup_vs_torch_fp32", f"{report.speedup_vs_torch_fp32:7.2f}"),
        row(
            "peak RSS (after half the documents)", f"{mb(i.peak_rss_mb)} ({mb(i.peak_rss_half_mb)})"
        ),
        "",
        "Retrieval".ljust(40) + " p50 ms   p95 ms",
        row(f"hybrid, {r.chunks:,} passages", f"{r.hybrid.p50_ms:7.1f}  {r.hybrid.p95_ms:7.1f}"),
    ]
    for s in r.dense:
        for kind, latency in (("exact", s.exact), ("approximate", s.approximate)):
            mark = " *" if kind == s.default_index else ""
            recall = (
                f"   recall@10 {s.approximate_recall_at_10:.3f}" if kind == "approximate" else ""
            )
            label = f"dense {kind}, {s.vectors:,}{mark}"
            lines.append(row(label, f"{latency.p50_ms:7.1f}  {latency.p95_ms:7.1f}{recall}"))
    lines += [
        "  * what a workspace of that size uses",
        row("approximate recall@10, corpus", f"{r.corpus_approximate_recall_at_10:.3f}"),
        "",
        f"Generation ({g.model}, {g.prompt_tokens}-token prompts, median of {g.runs})",
        row(
            "engine",
            f"{g.engine_tokens_per_s:7.1f} tokens/s  first token {g.engine_first_token_s:.2f} s",
        ),
        row(
            "bare llama-cpp-python",
            f"{g.raw_tokens_per_s:7.1f} tokens/s  first token {g.raw_first_token_s:.2f} s",
        ),
        row("gen_vs_raw", f"{report.gen_vs_raw:7.2f}")
        + ("" if g.same_text else "  (the two wrote different text)"),
    ]
    return "\n".join(lines)


def describe_load(machine: Machine) -> str:
    before, after = machine.load_before, machine.load_after
    return "n/a" if before is None or after is None else f"{before:.1f} before, {after:.1f} after"
