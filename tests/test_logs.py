"""The log as an operator reads it: JSON lines when asked for, secrets masked in both
formats, no APScheduler chatter every tick, and no traceback when `achtje run` stops while
a tick is planning."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot import logs
from bot.content import Content
from bot.privacy.redact import protect
from bot.schedule.holidays import load_holidays
from scheduler.runner import ScheduleRunner
from tests.conftest import without_settings

ACHTJE = Path(sys.executable).with_name("achtje")
SECRET = "xoxb-logs-test-secret-4711"


@pytest.fixture
def quiet_loggers() -> Iterator[None]:
    """Leave the loggers `logs.configure` touches as they were."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    before = {name: logging.getLogger(name).level for name in logs.CHATTY}
    yield
    for name, chatty in before.items():
        logging.getLogger(name).setLevel(chatty)
    root.handlers[:] = handlers
    root.setLevel(level)


def written(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.handle(record)
    return stream.getvalue()


def failed_record() -> logging.LogRecord:
    """A record as `logger.exception` makes it, through the record factory."""
    protect(SECRET)
    try:
        raise RuntimeError(f"Slack refused token {SECRET}")
    except RuntimeError:
        return logging.getLogger("achtje.test").makeRecord(
            "achtje.test", logging.ERROR, __file__, 1, "could not post with %s", (SECRET,),
            sys.exc_info())


def test_json_lines_carry_time_level_logger_message_and_the_exception() -> None:
    line = written(logs.JsonFormatter(), failed_record())
    assert line.endswith("\n") and line.count("\n") == 1
    found = json.loads(line)
    assert set(found) == {"time", "level", "logger", "message", "exception"}
    assert (found["level"], found["logger"]) == ("ERROR", "achtje.test")
    assert found["message"] == "could not post with ***"
    assert found["time"].endswith("+00:00")
    assert "RuntimeError: Slack refused token ***" in found["exception"]
    assert SECRET not in line


def test_the_text_format_masks_the_same_secrets() -> None:
    line = written(logging.Formatter(logs.TEXT_FORMAT), failed_record())
    assert "ERROR achtje.test: could not post with ***" in line
    assert "RuntimeError: Slack refused token ***" in line
    assert SECRET not in line


def test_a_wrong_log_format_is_refused_by_name(tmp_path: Path) -> None:
    env = without_settings()
    done = subprocess.run(
        [str(ACHTJE), "partnership", "list"], capture_output=True, text=True, cwd=tmp_path,
        env={**env, "ACHTJE_LOG_FORMAT": "yaml",
             "ACHTJE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"},
        timeout=60, check=False)
    assert done.returncode == 1
    assert "ACHTJE_LOG_FORMAT must be text or json, not 'yaml'" in done.stderr
    assert "Traceback" not in done.stderr


def test_apscheduler_speaks_only_at_debug(quiet_loggers: None) -> None:
    logging.getLogger().setLevel(logging.INFO)
    logs.configure("INFO")
    assert logging.getLogger("apscheduler").getEffectiveLevel() == logging.WARNING
    logging.getLogger().setLevel(logging.DEBUG)  # basicConfig sets it only once a process
    logs.configure("DEBUG", "json")
    assert logging.getLogger("apscheduler").getEffectiveLevel() == logging.DEBUG


async def test_stopping_during_a_tick_lets_it_finish_without_a_traceback(
    sessions: async_sessionmaker[Any], content: Content, caplog: pytest.LogCaptureFixture,
    quiet_loggers: None,
) -> None:
    caplog.set_level(logging.INFO)
    logs.configure("INFO")
    runner = ScheduleRunner(sessions, content, load_holidays(), {}, tick_seconds=3600)
    planning, release = asyncio.Event(), asyncio.Event()
    finished: list[bool] = []

    async def slow_tick() -> int:
        planning.set()
        await release.wait()
        finished.append(True)
        return 0

    runner.tick = slow_tick  # type: ignore[method-assign]
    await runner.start()
    await asyncio.wait_for(planning.wait(), 10)
    stopping = asyncio.get_running_loop().create_task(runner.stop())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not stopping.done(), "stop must wait for the tick that is planning"
    release.set()
    await asyncio.wait_for(stopping, 10)
    assert finished == [True]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert "CancelledError" not in caplog.text and "Running job" not in caplog.text
