"""Serving the web UI safely: local bind, no share or analytics, no file access outside
the export folder, password, a bounded queue, and a first start that builds the index."""

from __future__ import annotations

import time
import urllib.parse
from pathlib import Path

import gradio as gr
import httpx
import pytest
from gradio_client import Client

from assistant.answering.assistant import Assistant
from assistant.backends.fake import FakeBackend
from assistant.backends.llamacpp import bundled_model_path
from assistant.core.settings import Settings
from assistant.ui import serve as serving
from assistant.ui.serve import cleanup, create_ui, launch, launch_kwargs, serve
from tests.conftest import make_settings
from tests.integration.ui.conftest import QUESTION, settings_on_free_port


def test_serve_builds_a_missing_index_then_launches(tmp_path, monkeypatch, capsys):
    corpus = tmp_path / "tiny.jsonl"
    corpus.write_text(
        '{"title": "Stiff PINNs", "abstract": "PINNs fail on stiff problems. We fix it."}\n'
        '{"title": "Graph solvers", "abstract": "Graph networks solve PDEs on meshes."}\n',
        encoding="utf-8",
    )
    settings = make_settings(tmp_path / "index", [corpus])
    launched = {}

    def fake_launch(session, demo, **extra):
        launched.update(launch_kwargs(session), **extra)
        launched["info"] = session.info(session.settings.llm.backend)

    monkeypatch.setattr(serving, "launch", fake_launch)
    assert serve(settings) == 0
    out = capsys.readouterr().out
    assert "No index" in out and "Indexed 2 papers" in out and "http://127.0.0.1:7860/" in out
    assert launched["server_name"] == "127.0.0.1" and launched["server_port"] == 7860
    assert launched["share"] is False and "2 papers" in launched["info"]


def test_safe_launch_configuration(served, hash_index: Settings):
    ui, demo, url = served
    kwargs = launch_kwargs(ui)
    assert Settings().ui.host == "127.0.0.1" and kwargs["server_name"] == ui.settings.ui.host
    assert kwargs["share"] is False and demo.share is False
    assert demo.analytics_enabled is False and kwargs["auth"] is None
    assert kwargs["allowed_paths"] == [str(ui.export_dir.resolve())]
    index_dir = str(Path(hash_index.index.persist_dir).resolve())
    assert index_dir in demo.blocked_paths and index_dir in kwargs["blocked_paths"]
    uploads = (
        gr.File,
        gr.UploadButton,
        gr.Image,
        gr.Audio,
        gr.Video,
        gr.MultimodalTextbox,
        gr.Gallery,
        gr.Model3D,
    )
    assert not [b for b in demo.blocks.values() if isinstance(b, uploads)]
    chatbot = next(b for b in demo.blocks.values() if isinstance(b, gr.Chatbot))
    assert chatbot.sanitize_html is True and chatbot.render_markdown is False


def test_index_files_cannot_be_fetched(served, hash_index: Settings):
    url = served[2]
    index_dir = Path(hash_index.index.persist_dir).resolve()
    sqlite = next(index_dir.rglob("*.sqlite3"))
    relative = Path("../" * 12 + str(sqlite).lstrip("/"))
    export_escape = f"{served[0].export_dir}/../../../../../../{str(sqlite).lstrip('/')}"
    gguf = bundled_model_path()
    targets = [
        str(sqlite),
        str(relative),
        export_escape,
        "/etc/passwd",
        str(gguf or sqlite),
        urllib.parse.quote(str(sqlite), safe=""),
        str(sqlite).replace("/", "%2F").replace(".", "%2e"),
    ]
    with httpx.Client(base_url=url, timeout=10) as http:
        for target in targets:
            response = http.get(f"gradio_api/file={target}")
            assert response.status_code in (403, 404), target
            assert b"SQLite format 3" not in response.content
            assert b"root:" not in response.content and b"GGUF" not in response.content[:8]
        control = served[0].export_dir / "control.md"
        control.write_text("exported", encoding="utf-8")
        assert http.get(f"gradio_api/file={control}").content == b"exported"
        upload = http.post("gradio_api/upload", files={"files": ("x.txt", b"x" * 20000)})
        assert upload.status_code >= 400


def test_password_protects_the_app(hash_index: Settings, fake: FakeBackend):
    settings = settings_on_free_port(hash_index).with_overrides(ui__password="s3cret")
    ui, demo = create_ui(settings, Assistant(settings, backend=fake))
    _, url, _ = launch(ui, demo, prevent_thread_lock=True, quiet=True)
    try:
        assert launch_kwargs(ui)["auth"] == ("researcher", "s3cret")
        with httpx.Client(base_url=url, timeout=10) as http:
            assert http.get("config").status_code == 401
        with pytest.raises(ValueError):  # gradio_client: "This application requires auth"
            Client(url, verbose=False)
        authed = Client(url, auth=("researcher", "s3cret"), verbose=False)
        assert authed.predict(QUESTION, [], api_name="/ask")["citations"]
    finally:
        demo.close()
        cleanup(ui)


def test_queue_bounds_concurrency_and_keeps_serving(hash_index: Settings):
    """16 simultaneous /ask calls against concurrency 1 and a queue of 4: each one either
    completes with a cited answer or is refused quickly; the server then still answers."""
    import concurrent.futures

    settings = settings_on_free_port(hash_index).with_overrides(
        ui__concurrency_limit=1, ui__max_queue=4
    )
    slow = FakeBackend(delay_s=0.02)
    ui, demo = create_ui(settings, Assistant(settings, backend=slow))
    _, url, _ = launch(ui, demo, prevent_thread_lock=True, quiet=True)
    try:

        def one(_: int) -> tuple[str, float]:
            started = time.monotonic()
            try:
                out = Client(url, verbose=False).predict(QUESTION, [], api_name="/ask")
                return ("ok" if out["citations"] else "uncited"), time.monotonic() - started
            except Exception as exc:  # gradio_client raises on a full queue
                return f"refused: {exc}", time.monotonic() - started

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = list(pool.map(one, range(16)))
        outcomes = [r for r, _ in results]
        assert outcomes.count("ok") >= 5, outcomes  # 1 running + 4 queued at least
        assert all(r == "ok" or r.startswith("refused") for r in outcomes), outcomes
        assert all(t < 60 for _, t in results)
        after = Client(url, verbose=False).predict(QUESTION, [], api_name="/ask")
        assert after["citations"]
    finally:
        demo.close()
        cleanup(ui)
