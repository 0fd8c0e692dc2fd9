"""Store errors at the boundary: a Chroma *server* that stops answering is
``IndexUnavailable`` ("Index server unavailable: …", exit 5), never a raw httpx error.

The HTTP client raises ``httpx.ConnectError`` and friends when the server dies mid-session
(and ``store.py`` may wrap them as ``IndexCorruptError``); the user's fix is the same in
every case (start the server again), so all of them become one message. Embedded Chroma
errors pass through unchanged: there is no server to blame.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from assistant.core.errors import IndexUnavailable

F = TypeVar("F", bound=Callable[..., Any])
# chromadb's HTTP client waits forever for an answer (httpx timeout=None), so a server
# that hangs would hang every question; a query normally answers in milliseconds.
SERVER_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 5.0


def _is_transport(exc: BaseException) -> bool:
    import httpx

    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500
    return isinstance(exc, (httpx.TransportError, ConnectionError, TimeoutError))


def server_failure(exc: BaseException) -> BaseException | None:
    """The transport error behind ``exc`` (itself or a cause), if there is one."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:  # a cause chain is short; never loop on a cycle
        if _is_transport(current):
            return current
        current = current.__cause__ or current.__context__
        seen += 1
    return None


def describe(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__


@contextmanager
def translate_store_errors(chroma_url: str | None) -> Iterator[None]:
    """Inside: a failure of the Chroma server at ``chroma_url`` -> ``IndexUnavailable``.

    >>> import httpx
    >>> with translate_store_errors("http://127.0.0.1:9"):
    ...     raise httpx.ConnectError("[Errno 111] Connection refused")
    Traceback (most recent call last):
    ...
    assistant.core.errors.IndexUnavailable: lost the Chroma server at http://127.0.0.1:9 \
(ConnectError: [Errno 111] Connection refused); start it again, or unset index.chroma_url
    """
    try:
        yield
    except IndexUnavailable:
        raise
    except Exception as exc:
        cause = server_failure(exc) if chroma_url else None
        if cause is None:
            raise
        raise IndexUnavailable(
            f"lost the Chroma server at {chroma_url} ({describe(cause)}); "
            "start it again, or unset index.chroma_url"
        ) from exc


def bound_timeouts(client: Any, seconds: float = SERVER_TIMEOUT_S) -> None:
    """Give a Chroma HTTP client finite timeouts (a no-op for the embedded client)."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(seconds, connect=min(CONNECT_TIMEOUT_S, seconds))


def store_boundary(method: F) -> F:
    """Decorate a method of an object with ``.settings``: server failures inside it are
    reported as ``IndexUnavailable``; other ``AssistantError``s and bugs pass through."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        settings = getattr(self, "settings", None)
        url = settings.index.chroma_url if settings is not None else None
        with translate_store_errors(url):
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
