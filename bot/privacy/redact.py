"""Keep secrets out of every log line, whichever library writes it.

Some libraries log URLs that carry a secret: httpx logs each request URL at INFO, and the
Telegram Bot API puts the bot token in the URL (`/bot<token>/getUpdates`); python-telegram-bot
logs its base URL at DEBUG. Rather than silence those loggers, every component that holds a
secret registers it here, and a log-record factory replaces it with `***` in the message,
its arguments and any exception text, before any handler sees the record.

A kind of secret with a recognisable shape (Slack's tokens) can be registered as a pattern,
for values that arrive at runtime: a library may log a reply that carries a new token before
the code that asked for it can register it. A value of a registered shape is not kept one by
one, so a long-running process that keeps receiving new tokens does not slow every log line.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

MASK = "***"
MIN_LENGTH = 6  # shorter values would mask ordinary words; no real secret is that short

# Replaced whole, never changed in place, so reading them needs no lock.
_secrets: tuple[str, ...] = ()  # longest first, so no part of a longer secret is left over
_shapes: tuple[re.Pattern[str], ...] = ()
_lock = threading.Lock()
_installed = False


def protect(*secrets: str | None) -> None:
    """Never let these values appear in a log record from now on."""
    global _secrets
    with _lock:
        new = {s for s in secrets if s and len(s) >= MIN_LENGTH and not _shaped(s)}
        if not new <= set(_secrets):
            _secrets = tuple(sorted({*_secrets, *new}, key=len, reverse=True))
        _install_once()


def protect_shape(pattern: re.Pattern[str]) -> None:
    """Never let anything this pattern matches appear in a log record from now on."""
    global _shapes
    with _lock:
        if pattern not in _shapes:
            _shapes = (*_shapes, pattern)
        _install_once()


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, MASK)
    for shape in _shapes:
        text = shape.sub(MASK, text)
    return text


def _shaped(value: str) -> bool:
    return any(shape.fullmatch(value) for shape in _shapes)


def _install_once() -> None:
    global _installed
    if not _installed:
        _install()
        _installed = True


def _install() -> None:
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to the handler to report
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if redact(text) != text:
                record.exc_text = redact(text)
        return record

    logging.setLogRecordFactory(factory)
