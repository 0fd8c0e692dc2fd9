"""The error hierarchy. Each class carries a short, fixed user-facing message.

Callers (CLI, UI) show ``err.user_message()`` and log the details; they never show a
traceback. Exit codes are stable and documented in the README.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: every error a user can cause or meet is one of these."""

    exit_code = 1
    title = "Something went wrong"

    def user_message(self) -> str:
        return f"{self.title}: {self}" if str(self) else self.title


class ConfigError(AssistantError):
    exit_code = 2
    title = "Configuration error"


class UserInputError(AssistantError):
    exit_code = 2
    title = "Invalid input"


class CorpusFormatError(AssistantError):
    """A source file is malformed. The message names the file and line."""

    exit_code = 3
    title = "Malformed corpus file"


class IndexLockedError(AssistantError):
    exit_code = 4
    title = "Index is locked"


class IndexMissingError(AssistantError):
    exit_code = 5
    title = "No index"


class IndexIncompleteError(IndexMissingError):
    """An ingest started but never published a complete index (killed, or it failed)."""

    title = "Index is incomplete"


class IndexCorruptError(AssistantError):
    """The index files exist but cannot be read (truncated or garbage database)."""

    exit_code = 5
    title = "Index is unreadable"


class IndexMismatchError(AssistantError):
    exit_code = 5
    title = "Index does not match settings"


class IndexUnavailable(AssistantError):
    exit_code = 5
    title = "Index server unavailable"


class IndexWriteError(AssistantError):
    exit_code = 6
    title = "Could not write the index"


class BackendError(AssistantError):
    exit_code = 7
    title = "Model backend error"


class BackendUnavailable(BackendError):
    title = "Model backend unavailable"


class BackendTimeout(BackendError):
    title = "Model backend timed out"
