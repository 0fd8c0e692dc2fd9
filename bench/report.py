"""The printed report (each figure beside the previous run's and the goal or peer), the
retrieval-latency plot and the 2.5M-abstract scaling estimate."""

from __future__ import annotations

from typing import Any

from bench.common import MODES, dig, table

HEADER = ["figure", "now", "previous", "goal / peer"]


def fig(label: str, res: dict, prev: dict, path: str, goal: str = "") -> list[Any]:
    return [label, dig(res, path), dig(prev, path), goal]


def cold_rows(res: dict, prev: dict) -> list[list[Any]]:
    torch = dig(res, "cold_start.search_torch.p50_ms")
    ref = f" (torch embedder: {torch})" if torch else ""
    return [
        fig(
            "cold `assistant search` p50 ms", res, prev, "cold_start.search.p50_ms", "<= 1500" + ref
        ),
        fig("cold `assistant search` p95 ms", res, prev, "cold_start.search.p95_ms"),
        fig(
            "cold `ask --backend extractive` p50 ms",
            res,
            prev,
            "cold_start.ask_extractive.p50_ms",
            "<= 2500",
        ),
        fig(
            "cold `ask --backend extractive` p95 ms", res, prev, "cold_start.ask_extractive.p95_ms"
        ),
        [
            "heavy imports in a cold search",
            ", ".join(dig(res, "cold_start.search.heavy_imports") or []) or "none",
            "",
            "no torch/chromadb/gradio/llama_cpp",
        ],
    ]


def embedder_rows(res: dict, prev: dict) -> list[list[Any]]:
    rows = [
        fig(
            "ONNX vs torch, min cosine (20 sentences)",
            res,
            prev,
            "quality.vectors.onnx_min_cosine",
            ">= 0.999",
        ),
        fig("ONNX int8 vs torch, min cosine", res, prev, "quality.vectors.onnx-int8_min_cosine"),
    ]
    for name, got in (dig(res, "quality.recall@5") or {}).items():
        for qfile, by_mode in got.items():
            vals = " / ".join(f"{by_mode[m]:.3f}" if by_mode[m] is not None else "-" for m in MODES)
            rows.append(
                [f"R@5 {qfile} dense/bm25/hybrid, {name}", vals, "", "torch fp32 = reference"]
            )
    for name, delta in (dig(res, "quality.max_abs_delta") or {}).items():
        rows.append([f"max |R@5 - torch|, {name}", round(delta, 4), "", "<= 0.005"])
    return rows


def ingest_rows(res: dict, prev: dict) -> list[list[Any]]:
    peer = dig(res, "ingest.peer_s")
    runtime = dig(res, "ingest.index_runtime") or "?"
    return [
        fig(
            f"cold ingest s (median, {runtime} embedder, model load incl.)",
            res,
            prev,
            "ingest.cold_s",
            f"peer {peer} s" if peer else "peer not run",
        ),
        fig("ingest / LlamaIndex starter", res, prev, "ingest.ratio", "<= 0.6"),
        fig("no-op re-ingest s", res, prev, "ingest.noop_s"),
    ]


def retrieval_rows(res: dict, prev: dict) -> list[list[Any]]:
    rows = [
        fig(f"{m} p50 / p95 ms, real corpus", res, prev, f"query_latency.{m}.p50_ms") for m in MODES
    ]
    for row, m in zip(rows, MODES, strict=True):
        row[1] = f"{row[1]} / {dig(res, f'query_latency.{m}.p95_ms')}"
        row[2] = f"{row[2]} / {dig(prev, f'query_latency.{m}.p95_ms')}"
    rows[2][3] = "hybrid p50 <= 10"
    for n in dig(res, "scaling") or {}:
        est = " (estimated)" if dig(res, f"scaling.{n}.estimated") else ""
        goal = "<= 30" if n == "100000" else ""
        rows.append(
            fig(
                f"hybrid p50 ms at {int(n):,} chunks{est}",
                res,
                prev,
                f"scaling.{n}.latency.hybrid.p50_ms",
                goal,
            )
        )
    rows.extend(
        [
            fig("submit -> first source, in process, p50 ms", res, prev, "first_source.p50_ms"),
            fig(
                "submit -> first source card in Chromium, p50 ms",
                res,
                prev,
                "first_source_browser.p50_ms",
                "<= 150",
            ),
        ]
    )
    return rows


def answer_rows(res: dict, prev: dict) -> list[list[Any]]:
    rows = []
    for name in ("extractive", "llamacpp"):
        if dig(res, f"answers.{name}.unavailable"):
            rows.append(
                [f"{name}", "unavailable: " + dig(res, f"answers.{name}.unavailable")[:60], "", ""]
            )
            continue
        goals = ("<= 800", "<= 1500") if name == "llamacpp" else ("", "")
        rows.append(
            fig(f"{name} first token p50 ms", res, prev, f"answers.{name}.ttft.p50_ms", goals[0])
        )
        rows.append(
            fig(f"{name} total p50 ms", res, prev, f"answers.{name}.total.p50_ms", goals[1])
        )
        rows.append(fig(f"{name} total p95 ms", res, prev, f"answers.{name}.total.p95_ms"))
    rows.append(
        fig("llamacpp prompt tokens read p50", res, prev, "answers.llamacpp.prompt_tokens_read_p50")
    )
    return rows


def busy_rows(res: dict, prev: dict) -> list[list[Any]]:
    n = dig(res, "answers.busy.busy.total.n")
    return [
        fig("quiet total p95 ms", res, prev, "answers.busy.quiet.total.p95_ms"),
        fig(
            f"busy total p95 ms ({n} answers, 2 CPU hogs)",
            res,
            prev,
            "answers.busy.busy.total.p95_ms",
        ),
        fig("busy / quiet p95", res, prev, "answers.busy.p95_ratio", "<= 3"),
        fig("timeouts while busy", res, prev, "answers.busy.busy.timeouts", "0"),
    ]


def render(res: dict, prev: dict) -> str:
    m = res["machine"]
    out = [
        f"Benchmark {res['timestamp']} ({m['cpus']} CPUs, load before {m['load_before']}, "
        f"Python {m['python']}; previous: {prev.get('timestamp', 'none')})",
    ]
    sections = [
        ("Cold start (fresh processes)", cold_rows),
        ("Query embedder: ONNX Runtime vs torch", embedder_rows),
        ("Ingest (455 abstracts)", ingest_rows),
        ("Retrieval", retrieval_rows),
        ("Answers via Assistant.ask (ms from question in; fallback off)", answer_rows),
        ("Busy machine (bundled model, CPU-bound processes beside it)", busy_rows),
    ]
    for title, rows in sections:
        got = rows(res, prev)
        if got:
            out += ["", title, table(got, HEADER)]
    return "\n".join(out)
