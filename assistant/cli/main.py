"""The ``assistant`` command: ingest, search, ask, chat, eval, verify, eval-claims, serve,
doctor.

Exit codes: 0 ok; 1 unexpected error; 2 bad configuration or input; 3 malformed corpus;
4 index locked; 5 index missing or mismatched; 6 index write failed; 7 model backend
failed. Errors print one line on stderr (``--debug`` adds the traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

from assistant.backends import available_backends
from assistant.cli.terminal import SafeFormatter, safe_json, safe_terminal
from assistant.core.errors import AssistantError
from assistant.core.settings import OPTIONS, PROJECT_ROOT, RetrievalMode, Settings, load_settings

log = logging.getLogger("assistant")


def _settings(args: argparse.Namespace) -> Settings:
    """Settings from --config, the environment and the flags (named as in ``OPTIONS``)."""
    options = {name: getattr(args, name, None) for name in OPTIONS}
    if options.get("sources"):
        options["sources"] = [Path(s) for s in options["sources"]]
    return load_settings(args.config).with_options(**options)


def cmd_ingest(args: argparse.Namespace) -> int:
    from assistant.ingest.pipeline import run_ingest

    settings = _settings(args)
    report = run_ingest(settings, rebuild=args.rebuild, show_progress=sys.stderr.isatty())
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    print(
        f"{report.papers} papers ({report.records} records in {len(report.files)} files), "
        f"{report.chunks} chunks: {report.added} embedded, {report.updated} updated, "
        f"{report.deleted} removed, {report.unchanged} unchanged in {report.seconds:.1f} s"
    )
    for note in [*report.conflicts, *report.notes]:  # they quote titles/files: untrusted
        print(safe_terminal(f"note: {note}"))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from assistant.retrieval.fusion import search_relevance
    from assistant.retrieval.retriever import Retriever

    settings = _settings(args)
    hits = Retriever(settings).search(args.query, k=args.k, mode=args.mode)
    if args.json:
        print(safe_json(json.dumps([h.model_dump() for h in hits], indent=2, ensure_ascii=False)))
        return 0
    if not hits:
        print("No matching papers.")
    for hit in hits:
        print(safe_terminal(f"{hit.rank:>2}. [{search_relevance(hit.score)}] {hit.title}"))
        for passage in hit.passages[:1]:
            snippet = passage.text if len(passage.text) < 220 else passage.text[:217] + "..."
            print(safe_terminal(f"      {snippet}"))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.answering.assistant import Assistant
    from assistant.cli.terminal import format_answer_text

    answer = Assistant(_settings(args)).ask(args.question)
    if args.json:
        print(safe_json(answer.model_dump_json(indent=2)))
    else:
        print(safe_terminal(format_answer_text(answer)))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from assistant.answering.assistant import Assistant
    from assistant.cli.terminal import terminal_chat

    return terminal_chat(Assistant(_settings(args)))


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant.evaluation.runner import run_eval

    settings = _settings(args)
    modes = [m.strip() for m in (args.compare or settings.retrieval.mode).split(",") if m.strip()]
    backends = None
    if args.compare_backends:
        backends = [b.strip() for b in args.compare_backends.split(",") if b.strip()]
    elif args.backend:
        backends = [args.backend]
    report = run_eval(
        settings,
        Path(args.questions),
        Path(args.output),
        modes=modes,
        backends=backends,
        limit=args.limit,
    )
    if backends and args.claims:  # answers are only as good as the verifier that checks them
        _append_claims_report(settings, Path(args.claims), Path(args.output))
    print(safe_terminal((Path(args.output) / "report.md").read_text(encoding="utf-8")))
    return 0 if report else 1


def _append_claims_report(settings: Settings, claims: Path, output: Path) -> None:
    """The answer verifier's true-/false-pass rates on labelled claims, in report.md."""
    from assistant.evaluation.claims import evaluate_claims

    evaluate_claims(settings, claims, output / "claims", [settings.answer.verifier])
    table = (output / "claims" / "claims_report.md").read_text(encoding="utf-8")
    with (output / "report.md").open("a", encoding="utf-8") as fh:
        fh.write(
            "\n" + table.replace("# Claim verifiers", "## The answer verifier on labelled claims")
        )


def cmd_serve(args: argparse.Namespace) -> int:
    from assistant.ui.serve import serve

    return serve(_settings(args))


def cmd_doctor(args: argparse.Namespace) -> int:
    from assistant.cli.doctor import run_doctor

    return run_doctor(_settings(args))


def cmd_verify(args: argparse.Namespace) -> int:
    from assistant.evaluation.claims import verify_file

    settings = _settings(args)
    spec = args.verifier or settings.answer.verifier
    counts = verify_file(settings, Path(args.claims), Path(args.output), spec)
    print(
        safe_terminal(
            f"{counts['claims']} claims ({spec}): {counts['supported']} supported, "
            f"{counts['unsupported']} unsupported, {counts['errors']} not checked "
            f"(see 'error' in {args.output})"
        )
    )
    return 0


def cmd_eval_claims(args: argparse.Namespace) -> int:
    from assistant.evaluation.claims import evaluate_claims, iter_specs

    settings = _settings(args)
    specs = list(iter_specs(args.verifier or settings.answer.verifier))
    evaluate_claims(settings, Path(args.claims), Path(args.output), specs)
    print(safe_terminal((Path(args.output) / "claims_report.md").read_text(encoding="utf-8")))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", help="JSON or TOML settings file")
    parser.add_argument("--debug", action="store_true", help="log details and tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    _index_commands(sub)
    _answer_commands(sub)
    _eval_commands(sub)
    return parser


def _command(sub: Any, name: str, func: Callable[[argparse.Namespace], int], help_: str) -> Any:
    p = sub.add_parser(name, help=help_, description=help_)
    p.set_defaults(func=func)
    p.add_argument("--index-dir", type=Path, help="embedded Chroma folder")
    p.add_argument("--chroma-url", help="use a Chroma server at this URL instead")
    return p


def _llm_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", help=f"{', '.join(available_backends())} (or name:arg)")
    p.add_argument("--model-path", type=Path, help="GGUF file for llamacpp")
    p.add_argument("--base-url", help="OpenAI-compatible server URL, e.g. http://127.0.0.1:8080/v1")
    p.add_argument("--model", help="model name on the OpenAI-compatible server")
    p.add_argument("--timeout", dest="timeout_s", type=float, help="seconds allowed for one answer")
    p.add_argument("--mode", choices=get_args(RetrievalMode))
    p.add_argument("-k", type=int, help="papers retrieved")


def _index_commands(sub: Any) -> None:
    p = _command(sub, "ingest", cmd_ingest, "Build or update the index from the corpus files.")
    p.add_argument("--source", dest="sources", action="append", help="file or folder (repeatable)")
    p.add_argument("--rebuild", action="store_true", help="drop the index and build anew")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p = _command(sub, "search", cmd_search, "Search papers (no language model).")
    p.add_argument("query")
    p.add_argument("-k", type=int, help="papers to return")
    p.add_argument("--mode", choices=get_args(RetrievalMode))
    p.add_argument("--json", action="store_true")
    _command(sub, "doctor", cmd_doctor, "Check model files, index and settings.")


def _answer_commands(sub: Any) -> None:
    p = _command(sub, "ask", cmd_ask, "Answer one question with cited sources.")
    p.add_argument("question")
    p.add_argument("--json", action="store_true")
    _llm_options(p)
    p = _command(sub, "chat", cmd_chat, "Interactive chat in the terminal (/help for commands).")
    _llm_options(p)
    p = _command(sub, "serve", cmd_serve, "Start the web chat UI.")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    _llm_options(p)


def _eval_commands(sub: Any) -> None:
    p = _command(
        sub, "eval", cmd_eval, "Score retrieval (and answers with --backend) on questions."
    )
    p.add_argument("questions", help="JSONL question file")
    p.add_argument("--output", required=True, help="folder for report.json/.md, results.jsonl")
    p.add_argument("--compare", help="retrieval modes side by side, e.g. dense,bm25,hybrid")
    p.add_argument(
        "--compare-backends", help="answer backends side by side, e.g. llamacpp,extractive"
    )
    p.add_argument("--limit", type=int, help="N questions sampled across types (seeded)")
    p.add_argument(
        "--claims",
        default=str(PROJECT_ROOT / "eval" / "claims.jsonl"),
        help="labelled claims to measure the verifier on when answers are scored ('' skips)",
    )
    _llm_options(p)
    p = _command(
        sub, "verify", cmd_verify, "Check claims against the abstracts of the papers they cite."
    )
    p.add_argument("claims", help='JSONL: {"id", "claim", "title" or "paper_id"} per line')
    p.add_argument("--output", required=True, help="JSONL file for the verdicts")
    p.add_argument("--verifier", help="strict, llm or nli:/path/to/cross-encoder")
    _llm_options(p)
    p = _command(sub, "eval-claims", cmd_eval_claims, "Measure claim verifiers on labelled claims.")
    p.add_argument("claims", help="labelled JSONL, e.g. eval/claims.jsonl")
    p.add_argument("--output", required=True, help="folder for claims_report.md/.json")
    p.add_argument("--verifier", help="one or more, comma-separated: strict,llm")
    _llm_options(p)


def _tolerant_streams() -> None:
    """Undecodable input and unprintable output are repaired or escaped, never a crash:
    stdin keeps bad bytes as surrogates (``core.inputs`` repairs them), and stdout/stderr
    escape what their encoding cannot show."""
    for stream, errors in ((sys.stdin, "surrogateescape"), (sys.stdout, "backslashreplace")):
        reconfigure = getattr(stream, "reconfigure", None)
        if callable(reconfigure):
            reconfigure(errors=errors)
    reconfigure = getattr(sys.stderr, "reconfigure", None)
    if callable(reconfigure):
        reconfigure(errors="backslashreplace")


def _setup_logging(debug: bool) -> None:
    fmt = "%(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format=fmt)
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler:  # ours, not a test harness's
            handler.setFormatter(SafeFormatter(fmt))


def main(argv: list[str] | None = None) -> int:
    _tolerant_streams()
    args = _parser().parse_args(argv)
    _setup_logging(args.debug)
    try:
        return args.func(args)
    except AssistantError as exc:
        if args.debug:
            log.exception("failed")
        print(f"error: {safe_terminal(exc.user_message())}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`: stop quietly
        with contextlib.suppress(OSError, ValueError):  # no flush error at exit either
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # a bug: one line here, the traceback with --debug
        log.debug("unexpected failure", exc_info=True)
        text = str(exc).splitlines()[0][:200] if str(exc) else ""
        print(
            safe_terminal(f"error: unexpected {type(exc).__name__}: {text} (--debug shows more)"),
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
