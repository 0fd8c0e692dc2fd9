"""HTTP hardening for the web UI, as one ASGI middleware on the app Gradio creates.

- **Security headers** on every response: a Content-Security-Policy that allows only
  this origin (Gradio's page needs inline scripts and styles, so those are allowed;
  nothing may be loaded from or sent to another origin, and the page may not be framed),
  ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``, ``Referrer-Policy``.
- **No uploads**: the UI has no file inputs, so Gradio's upload routes answer 403 before
  any byte of the body is read.
- **Bounded requests**: a body over ``MAX_BODY`` bytes is refused (413) or cut off, so a
  request cannot make the server read and parse megabytes (a question is 2000 characters).
- **Login rate limit**: after ``attempts`` failed logins in a minute, a client (by IP
  address) gets 429 until the oldest failure is a minute old, so a password cannot be
  guessed at network speed.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# 'unsafe-inline': Gradio's page sets its config in inline <script> tags and its
# components set inline styles. 'unsafe-eval': Gradio's frontend evaluates component
# templates and the `js=` startup script with the Function constructor (without it the
# page logs EvalError and app.js never runs). Everything else is this origin only.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
_UPLOAD = re.compile(r"(?:^|/)(?:upload|upload_progress)/?$")
_LOGIN = re.compile(r"(?:^|/)login/?$")
WINDOW_S = 60.0
MAX_BODY = 1 << 20  # 1 MiB: a question, a long history and JSON overhead fit many times


class LoginLimiter:
    """Failed logins per client in a sliding one-minute window (thread-safe)."""

    def __init__(self, attempts: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts = attempts
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> float:
        """Seconds until ``client`` may try again (0: now)."""
        with self._lock:
            recent = self._recent(client)
            if len(recent) < self.attempts:
                return 0.0
            return max(0.1, recent[0] + WINDOW_S - self.clock())

    def record(self, client: str, ok: bool) -> None:
        with self._lock:
            if ok:
                self._failures.pop(client, None)
                return
            self._recent(client).append(self.clock())
            if len(self._failures) > 10_000:  # bound the memory an address sweep can take
                self._failures = {k: v for k, v in self._failures.items() if v}

    def _recent(self, client: str) -> deque[float]:
        recent = self._failures.setdefault(client, deque())
        while recent and recent[0] <= self.clock() - WINDOW_S:
            recent.popleft()
        return recent


class Guard:
    """The middleware (see the module docstring)."""

    def __init__(
        self, app: ASGIApp, attempts_per_minute: int = 5, max_body: int = MAX_BODY
    ) -> None:
        self.app = app
        self.limiter = LoginLimiter(attempts_per_minute)
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if _UPLOAD.search(path):
            await _refuse(send, 403, "File uploads are disabled on this server.")
            return
        if _content_length(scope) > self.max_body:
            await _refuse(send, 413, f"Request body over {self.max_body} bytes.")
            return
        receive = _capped(receive, self.max_body)
        login = scope.get("method") == "POST" and bool(_LOGIN.search(path))
        client = (scope.get("client") or ("unknown",))[0]
        if login and (wait := self.limiter.retry_after(client)):
            await _refuse(send, 429, "Too many failed logins; try again later.", wait)
            return
        status: list[int] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                message = {**message, "headers": _with_security_headers(message)}
            await send(message)

        await self.app(scope, receive, send_with_headers)
        if login and status:
            self.limiter.record(client, ok=status[0] < 400)


def _content_length(scope: Scope) -> int:
    for name, value in scope.get("headers") or []:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def _capped(receive: Receive, limit: int) -> Receive:
    """``receive`` that ends the request (as a client disconnect) past ``limit`` bytes:
    a chunked body has no length to check in advance."""
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                return {"type": "http.disconnect"}
        return message

    return capped


def _with_security_headers(message: Message) -> list[tuple[bytes, bytes]]:
    headers = list(message.get("headers") or [])
    present = {name.lower() for name, _ in headers}
    for name, value in HEADERS.items():
        if name.encode() not in present:
            headers.append((name.encode(), value.encode()))
    return headers


async def _refuse(send: Send, status: int, detail: str, retry_after: float = 0) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.encode(), v.encode()) for k, v in HEADERS.items()),
    ]
    if retry_after:
        headers.append((b"retry-after", str(int(retry_after) + 1).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
