"""How achtje writes its log: plain lines (the default) or, with ACHTJE_LOG_FORMAT=json, one
JSON object per line for a log collector. Either way secrets are masked (the record factory
of bot/privacy/redact.py, and once more here), and APScheduler's two lines a tick ("Running
job", "executed successfully") only show at DEBUG."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from bot.privacy.redact import redact

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries whose routine INFO lines would drown achtje's own.
CHATTY = ("apscheduler",)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, and the
    exception's traceback as `exception` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        found: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            found["exception"] = redact(record.exc_text
                                        or self.formatException(record.exc_info))
        if record.stack_info:
            found["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(found, ensure_ascii=False)


def configure(level: str, log_format: str = "text") -> None:
    """Log to standard error at `level` in `log_format` (`text` or `json`); raises
    ValueError naming the choices for another format."""
    if log_format not in FORMATS:
        raise ValueError(f"ACHTJE_LOG_FORMAT must be {' or '.join(FORMATS)}, not {log_format!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json"
                         else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    quiet = logging.getLogger().getEffectiveLevel() > logging.DEBUG
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.NOTSET)
