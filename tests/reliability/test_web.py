"""Web hardening on a real launched server: security headers, no upload routes, the login
rate limit, the backend URL box, and hostile input through ``/ask`` and the chat handler
(never an HTTP 500 or a traceback)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import httpx
import orjson
import pytest
from gradio_client import Client

from assistant.answering.assistant import Assistant
from assistant.backends.fake import FakeBackend
from assistant.core.settings import Settings
from assistant.ui.guard import CSP, WINDOW_S, LoginLimiter
from assistant.ui.serve import cleanup, create_ui, launch
from assistant.ui.session import ChatSession
from tests.netutil import free_port

PASSWORD = "s3cret-pass"
QUESTION = "Which papers address failure modes of physics-informed neural networks?"


def _serve(settings: Settings) -> Iterator[tuple[ChatSession, str]]:
    settings = settings.with_overrides(ui__port=free_port())
    ui, demo = create_ui(settings, Assistant(settings, backend=FakeBackend()))
    _, url, _ = launch(ui, demo, prevent_thread_lock=True, quiet=True)
    try:
        yield ui, url
    finally:
        demo.close()
        cleanup(ui)


@pytest.fixture(scope="module")
def open_server(hash_index: Settings) -> Iterator[tuple[ChatSession, str]]:
    yield from _serve(hash_index)


@pytest.fixture
def locked_server(hash_index: Settings) -> Iterator[tuple[ChatSession, str]]:
    """A fresh password-protected server (its own login counter)."""
    yield from _serve(hash_index.with_overrides(ui__password=PASSWORD))


def _login(http: httpx.Client, password: str) -> httpx.Response:
    return http.post("login", data={"username": "researcher", "password": password})


def test_every_response_carries_the_security_headers(open_server) -> None:
    _, url = open_server
    with httpx.Client(base_url=url, timeout=20) as http:
        for response in (
            http.get(""),
            http.get("config"),
            http.get("gradio_api/info"),
            http.get("no/such/page"),
            http.post("gradio_api/upload", files={"files": ("x.txt", b"x")}),
        ):
            headers = response.headers
            assert headers["content-security-policy"] == CSP, response.url
            assert headers["x-frame-options"] == "DENY"
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in CSP and "default-src 'self'" in CSP
    assert "http:" not in CSP and "https:" not in CSP and "*" not in CSP


def test_upload_routes_refuse(open_server) -> None:
    _, url = open_server
    with httpx.Client(base_url=url, timeout=20) as http:
        for method, path in [
            ("POST", "gradio_api/upload"),
            ("POST", "gradio_api/upload/"),
            ("POST", "upload"),
            ("GET", "gradio_api/upload_progress?upload_id=x"),
        ]:
            response = http.request(method, path, files={"files": ("x.txt", b"x" * 5000)})
            assert response.status_code == 403, (path, response.status_code)
            assert response.json() == {"detail": "File uploads are disabled on this server."}


def test_failed_logins_are_rate_limited(locked_server) -> None:
    _, url = locked_server
    with httpx.Client(base_url=url, timeout=20) as http:
        assert http.get("config").status_code == 401
        statuses = [_login(http, f"guess-{i}").status_code for i in range(5)]
        assert statuses == [400] * 5
        blocked = _login(http, PASSWORD)  # even the right password waits now
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
        assert "Too many failed logins" in blocked.text
        assert http.get("config").status_code == 401  # and nothing was let in


def test_a_successful_login_clears_the_count(locked_server) -> None:
    _, url = locked_server
    with httpx.Client(base_url=url, timeout=20) as http:
        for i in range(4):
            assert _login(http, f"guess-{i}").status_code == 400
        assert _login(http, PASSWORD).status_code == 200
        assert http.get("config").status_code == 200
        for i in range(4):
            assert _login(http, f"guess-{i}").status_code == 400
    authed = Client(url, auth=("researcher", PASSWORD), verbose=False)
    assert authed.predict(QUESTION, [], api_name="/ask")["citations"]


def test_login_limiter_window_and_clients() -> None:
    now = itertools.count(0.0, 1.0)
    clock = [0.0]
    limiter = LoginLimiter(3, clock=lambda: clock[0])
    for _ in range(3):
        assert limiter.retry_after("a") == 0
        limiter.record("a", ok=False)
        clock[0] = next(now)
    assert limiter.retry_after("a") > 0 and limiter.retry_after("b") == 0
    clock[0] = WINDOW_S + 0.5  # the first failure has left the window
    assert limiter.retry_after("a") == 0
    limiter.record("a", ok=True)
    assert limiter.retry_after("a") == 0


def _ask_raw(http: httpx.Client, body: bytes) -> tuple[int, str]:
    response = http.post(
        "gradio_api/call/ask", content=body, headers={"content-type": "application/json"}
    )
    if response.status_code != 200:
        return response.status_code, response.text
    result = http.get(f"gradio_api/call/ask/{response.json()['event_id']}")
    return result.status_code, result.text


def test_ask_endpoint_over_http_with_hostile_input(open_server) -> None:
    _, url = open_server
    with httpx.Client(base_url=url, timeout=60) as http:
        # A lone surrogate escaped in JSON (what a browser sends for broken text): answered.
        status, text = _ask_raw(http, b'{"data": ["caf\\udce9 PINN failure modes?", []]}')
        assert status == 200 and "event: complete" in text and "caf\\u00e9" in text
        # Raw invalid UTF-8 in the body: a clear 400 from the server, not a 500.
        status, text = _ask_raw(http, b'{"data": ["caf\xe9 PINN?", []]}')
        assert status == 400 and "error parsing the body" in text
        for history, message in [
            ("5", "history must be a list of messages, not int"),
            ('{"role": "user"}', "history must be a list of messages, not dict"),
            ('"junk"', "history must be a list of messages, not str"),
            ("[1, 2]", "history item 1 must be a message dict"),
            ('[{"role": "system", "content": "x"}]', "history item 1 needs 'role'"),
            ("0", "history must be a list of messages, not int"),
        ]:
            status, text = _ask_raw(http, f'{{"data": ["{QUESTION}", {history}]}}'.encode())
            assert status == 200 and "event: error" in text, text
            error = json.loads(text.split("data: ", 1)[1])["error"]
            assert error.startswith(f"Invalid input: {message}"), error


def test_ask_endpoint_errors_reach_gradio_client_as_one_message(open_server) -> None:
    _, url = open_server
    client = Client(url, verbose=False)
    for question, history, message in [
        (QUESTION, 5, "history must be a list of messages, not int"),
        (QUESTION, [1, 2], "history item 1 must be a message dict"),
        (42, [], "the question must be text, not int"),
        ("x" * 50_000, [], "the question is 50000 characters; the limit is 2000"),
    ]:
        with pytest.raises(Exception, match="Invalid input") as info:
            client.predict(question, history, api_name="/ask")
        assert message in str(info.value) and "Traceback" not in str(info.value)


def test_chat_handler_with_broken_text_streams_json_safe_updates(open_server) -> None:
    ui, _ = open_server
    s = ui.settings
    for question in ["caf\udce9 PINN?", "\ud83d\ude00 PINNs\x1b[2J?", "\ud800", "x" * 10_000]:
        outputs = list(ui.respond(question, [], "fake", "", "", s.retrieval.mode, 3))
        for out in outputs:
            orjson.dumps([o for o in out if isinstance(o, (str, list, dict))])  # sendable
        chat = json.dumps(outputs[-1][1] if outputs and outputs[-1][1] else "")
        assert "Traceback" not in chat


def test_backend_url_box_is_ignored_unless_allowed(open_server, hash_index: Settings) -> None:
    ui, _ = open_server
    assert ui.settings.ui.allow_custom_backend_url is False
    options = ui.options("openai", "http://attacker.test:1/v1", "m", "bm25", 3)
    assert "base_url" not in options and options["model"] == "m"
    allowed = hash_index.with_overrides(ui__allow_custom_backend_url=True)
    session = ChatSession(allowed, ui.assistant)
    assert session.options("openai", " http://h:1/v1 ", "m", "", 0)["base_url"] == "http://h:1/v1"


def test_backend_url_box_is_read_only_unless_allowed(hash_index: Settings) -> None:
    from assistant.ui.app import build

    for allowed in (False, True):
        settings = hash_index.with_overrides(ui__allow_custom_backend_url=allowed)
        demo = build(ChatSession(settings, Assistant(settings, backend=FakeBackend())))
        boxes = [
            c
            for c in demo.blocks.values()
            if type(c).__name__ == "Textbox" and str(c.label).startswith("Server URL")
        ]
        assert len(boxes) == 1 and boxes[0].interactive is allowed


def test_request_bodies_are_bounded(open_server) -> None:
    from assistant.ui.guard import MAX_BODY

    _, url = open_server
    big = b'{"data": ["' + b"x" * (MAX_BODY + 10) + b'", []]}'
    with httpx.Client(base_url=url, timeout=30) as http:
        response = http.post("gradio_api/call/ask", content=big)
        assert response.status_code == 413 and "over" in response.json()["detail"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: the cap applies as it arrives
            yield b'{"data": ["'
            for _ in range(40):
                yield b"y" * 65536
            yield b'", []]}'

        response = http.post(
            "gradio_api/call/ask", content=chunks(), headers={"content-type": "application/json"}
        )
        assert response.status_code in (400, 413, 422), response.status_code
        assert http.get("config").status_code == 200  # and the server is fine
