"""The ``assistant`` command: ingest, search, ask, chat, eval, serve, doctor.

Exit codes: 0 ok; 1 unexpected error; 2 bad configuration or input; 3 malformed corpus;
4 index locked; 5 index missing or mismatched; 6 index write failed; 7 model backend
failed. Errors print one line on stderr (``--debug`` adds the traceback).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import get_args

from assistant.backends import available_backends
from assistant.core.errors import AssistantError
from assistant.core.settings import OPTIONS, RetrievalMode, Settings, load_settings

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
    for note in report.conflicts:
        print(f"note: {note}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from assistant.retrieval.retriever import Retriever

    settings = _settings(args)
    hits = Retriever(settings).search(args.query, k=args.k, mode=args.mode)
    if args.json:
        print(json.dumps([h.model_dump() for h in hits], indent=2, ensure_ascii=False))
        return 0
    if not hits:
        print("No matching papers.")
    for hit in hits:
        print(f"{hit.rank:>2}. [{hit.score:.4f}] {hit.title}")
        for passage in hit.passages[:1]:
            snippet = passage.text if len(passage.text) < 220 else passage.text[:217] + "..."
            print(f"      {snippet}")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.answering.assistant import Assistant
    from assistant.cli.terminal import format_answer_text

    answer = Assistant(_settings(args)).ask(args.question)
    if args.json:
        print(answer.model_dump_json(indent=2))
    else:
        print(format_answer_text(answer))
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
    print((Path(args.output) / "report.md").read_text(encoding="utf-8"))
    return 0 if report else 1


def cmd_serve(args: argparse.Namespace) -> int:
    from assistant.ui.serve import serve

    return serve(_settings(args))


def cmd_doctor(args: argparse.Namespace) -> int:
    from assistant.cli.doctor import run_doctor

    return run_doctor(_settings(args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", help="JSON or TOML settings file")
    parser.add_argument("--debug", action="store_true", help="log details and tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str):
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        p.add_argument("--index-dir", type=Path, help="embedded Chroma folder")
        p.add_argument("--chroma-url", help="use a Chroma server at this URL instead")
        return p

    p = add("ingest", cmd_ingest, "Build or update the index from the corpus files.")
    p.add_argument("--source", dest="sources", action="append", help="file or folder (repeatable)")
    p.add_argument("--rebuild", action="store_true", help="drop the index and build anew")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = add("search", cmd_search, "Search papers (no language model).")
    p.add_argument("query")
    p.add_argument("-k", type=int, help="papers to return")
    p.add_argument("--mode", choices=get_args(RetrievalMode))
    p.add_argument("--json", action="store_true")

    def add_llm(p: argparse.ArgumentParser) -> None:
        p.add_argument("--backend", help=f"{', '.join(available_backends())} (or name:arg)")
        p.add_argument("--model-path", type=Path, help="GGUF file for llamacpp")
        p.add_argument(
            "--base-url", help="OpenAI-compatible server URL, e.g. http://127.0.0.1:8080/v1"
        )
        p.add_argument("--model", help="model name on the OpenAI-compatible server")
        p.add_argument(
            "--timeout", dest="timeout_s", type=float, help="seconds allowed for one answer"
        )
        p.add_argument("--mode", choices=get_args(RetrievalMode))
        p.add_argument("-k", type=int, help="papers retrieved")

    p = add("ask", cmd_ask, "Answer one question with cited sources.")
    p.add_argument("question")
    p.add_argument("--json", action="store_true")
    add_llm(p)

    p = add("chat", cmd_chat, "Interactive chat in the terminal (follow-ups use history).")
    add_llm(p)

    p = add("eval", cmd_eval, "Score retrieval (and answers with --backend) on questions.")
    p.add_argument("questions", help="JSONL question file")
    p.add_argument("--output", required=True, help="folder for report.json/.md, results.jsonl")
    p.add_argument("--compare", help="retrieval modes side by side, e.g. dense,bm25,hybrid")
    p.add_argument(
        "--compare-backends", help="answer backends side by side, e.g. llamacpp,extractive"
    )
    p.add_argument("--limit", type=int, help="only the first N questions")
    add_llm(p)

    p = add("serve", cmd_serve, "Start the web chat UI.")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    add_llm(p)

    add("doctor", cmd_doctor, "Check model files, index and settings.")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.func(args)
    except AssistantError as exc:
        if args.debug:
            log.exception("failed")
        print(f"error: {exc.user_message()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
