"""Typed errors of the library. Each message tells the user how to fix the problem.

Only the edges convert them: the CLI into an exit code and a one-line message, the UI into
``gr.Error``, the HTTP API into a JSON error with a status code.
"""
from __future__ import annotations


class RewriteError(Exception):
    """Base class of every error the library raises on purpose."""

    #: HTTP status the API answers with for this error.
    status = 400


class InvalidDraftError(RewriteError):
    """The draft cannot be rewritten as given (empty, too long, not text)."""


class EmptyDraftError(InvalidDraftError):
    """The draft is empty or holds only whitespace / control characters."""


class DraftTooLongError(InvalidDraftError):
    """The draft is longer than the limit the pipeline accepts."""

    status = 413


class NormsError(RewriteError):
    """A file in ``prompts/`` is missing or malformed."""

    status = 500


class UnknownBackendError(RewriteError):
    """No backend is registered under that name."""


class ModelNotFoundError(RewriteError):
    """The model directory or one of its files is missing."""

    status = 503


class BackendUnavailableError(RewriteError):
    """A backend exists but cannot serve now (LLM endpoint unreachable, package missing)."""

    status = 503


class DataError(RewriteError):
    """A data file (JSONL source, benchmark, feedback store) is broken."""
