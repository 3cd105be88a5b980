"""Keep secrets out of every log line, whichever library writes it.

Some libraries log URLs that carry a secret: httpx logs each request URL at INFO, and the
Telegram Bot API puts the bot token in the URL (`/bot<token>/getUpdates`); python-telegram-bot
logs its base URL at DEBUG. Rather than silence those loggers, every component that holds a
secret registers it here, and a log-record factory replaces it with `***` in the message,
its arguments and any exception text, before any handler sees the record.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

MASK = "***"
MIN_LENGTH = 6  # shorter values would mask ordinary words; no real secret is that short

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def protect(*secrets: str | None) -> None:
    """Never let these values appear in a log record from now on."""
    global _installed
    with _lock:
        _secrets.update(s for s in secrets if s and len(s) >= MIN_LENGTH)
        if not _installed:
            _install()
            _installed = True


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


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
