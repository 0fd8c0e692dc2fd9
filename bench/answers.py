"""Answer timings through ``Assistant`` (as the CLI and UI use it), the busy-machine
scenario, and the time to first source in the web UI."""

from __future__ import annotations

import time
from typing import Any

from bench.common import QUESTIONS, cpu_load, ms_stats, percentile, progress, r

BUSY_PROCESSES = 2


def answerable(n: int, skip: int = 0) -> list[str]:
    from assistant.evaluation.questions import load_questions

    qs = [q.question for q in load_questions(QUESTIONS) if q.type in ("factual", "topic")]
    qs = qs[skip:] + qs[:skip]
    return [qs[i % len(qs)] for i in range(n)]  # cycle when asked for more than there are


def run_questions(assistant: Any, backend: str, questions: list[str]) -> dict[str, Any]:
    """TTFT and total per answer (ms from question in, retrieval included)."""
    ttft, total, tokens, failed, timeouts = [], [], [], [], 0
    for question in questions:
        try:
            ans = assistant.ask(question, backend=backend)
        except Exception as exc:  # with the fallback off, a timeout with no text raises
            failed.append(f"{type(exc).__name__}: {exc}")
            timeouts += "timeout" in type(exc).__name__.lower() or "within" in str(exc)
            continue
        if ans.fallback_reason:
            failed.append(ans.fallback_reason)
            timeouts += "within" in ans.fallback_reason or "busy" in ans.fallback_reason
        if ans.timings.first_token_ms is not None:
            ttft.append(ans.timings.first_token_ms)
        total.append(ans.timings.total_ms)
        used = getattr(assistant.backend(), "last_prompt", None)
        if used:
            tokens.append(used["tokens"] - used["reused"])
    out = {"ttft": ms_stats(ttft), "total": ms_stats(total), "failed": len(failed)}
    out["timeouts"] = timeouts
    if tokens:
        out["prompt_tokens_read_p50"] = percentile(tokens, 50)
    if failed:
        out["first_failure"] = failed[0][:200]
    return out


def bench_answers(settings: Any, retriever: Any, n: int, busy_n: int) -> dict[str, Any]:
    """Each backend gets a fresh ``Assistant`` (cold sentence-embedding cache) and one
    untimed warm-up question that loads its model; the fallback is off so each backend
    is timed on its own."""
    from assistant.answering.assistant import Assistant

    settings = settings.with_overrides(llm__fallback=None)
    out: dict[str, Any] = {}
    for backend in ("extractive", "llamacpp"):
        progress(f"answers with {backend} ({n} questions + 1 warm-up)...")
        assistant = Assistant(settings, retriever=retriever)
        try:
            t0 = time.perf_counter()
            assistant.ask(answerable(1, skip=n + 1)[0], backend=backend)
            warmup_s = time.perf_counter() - t0
            out[backend] = {
                "warmup_s": r(warmup_s, 2),
                **run_questions(assistant, backend, answerable(n)),
            }
        except Exception as exc:  # one broken backend must not sink the whole bench
            out[backend] = {"unavailable": f"{type(exc).__name__}: {exc}"}
            progress(f"  {backend} unavailable: {out[backend]['unavailable']}")
            continue
        got = out[backend]
        progress(f"  TTFT p50 {got['ttft']['p50_ms']} ms, total p50 {got['total']['p50_ms']} ms")
        if backend == "llamacpp" and busy_n:
            out["busy"] = bench_busy(assistant, busy_n)
    return out


def bench_busy(assistant: Any, n: int) -> dict[str, Any]:
    """The same ``n`` questions quiet, then with CPU-bound processes beside the model."""
    questions = answerable(n)
    progress(f"busy machine: {n} llamacpp answers quiet...")
    quiet = run_questions(assistant, "llamacpp", questions)
    progress(f"busy machine: the same {n} answers beside {BUSY_PROCESSES} CPU-bound processes...")
    with cpu_load(BUSY_PROCESSES):
        busy = run_questions(assistant, "llamacpp", questions)
    ratio = None
    if quiet["total"]["p95_ms"] and busy["total"]["p95_ms"]:
        ratio = r(busy["total"]["p95_ms"] / quiet["total"]["p95_ms"], 2)
    progress(f"  total p95 quiet {quiet['total']['p95_ms']} ms, busy {busy['total']['p95_ms']} ms")
    return {"processes": BUSY_PROCESSES, "quiet": quiet, "busy": busy, "p95_ratio": ratio}


def bench_first_source(settings: Any, retriever: Any, n: int) -> dict[str, Any]:
    """Submit -> first sources-panel update, through the web UI's own handler.

    ``ChatSession.respond`` is driven in-process, as Gradio's queue worker calls it, up to
    the update that fills the sources panel (retrieval, evidence choice and the panel's
    HTML included). Gradio's queue and the browser transport are not included."""
    from assistant.answering.assistant import Assistant
    from assistant.ui.session import ChatSession

    session = ChatSession(settings, Assistant(settings, retriever=retriever))
    questions = answerable(n + 1, skip=3)
    times = []
    for i, question in enumerate(questions):
        t0 = time.perf_counter()
        updates = session.respond(question, [], "extractive", "", "", "hybrid", 5)
        seen = 0
        for update in updates:
            seen += isinstance(update[2], str)  # a panel update (gr.skip() is a dict)
            if seen == 2:  # 1: the "Searching…" placeholder, 2: the sources
                break
        updates.close()
        if i:  # the first one loads the keyword index and warms the embedder
            times.append((time.perf_counter() - t0) * 1000)
    return {**ms_stats(times), "method": "ChatSession.respond in-process to the sources update"}
