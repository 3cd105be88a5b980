"""What `achtje run` has loaded when it says it is ready, read in the real process: what it
does not need to answer a chat message loads when it is first used (docs/performance.md,
fifth pass). Not a timing test: it names modules, which a loaded machine cannot change."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import without_settings
from tests.slack_fakes import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.telegram_fakes import FakeTelegram
from tests.test_startup import closed_port

# Runs `achtje run` as its script does; a thread waits for /healthz to answer 200, notes
# which of WATCHED are loaded, opens the dashboard once, notes them again, and stops the
# process as an operator would (SIGTERM).
CHILD = """
import json, os, signal, sys, threading, time, urllib.error, urllib.request

WATCHED = {watched!r}
BASE = "http://127.0.0.1:" + os.environ["ACHTJE_HTTP_PORT"]


def loaded():
    return sorted(name for name in WATCHED if name in sys.modules)


def status(path):
    try:
        with urllib.request.urlopen(BASE + path, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code
    except OSError:
        return None


def watch():
    found = {{}}
    try:
        for _ in range(1200):
            if status("/healthz") == 200:
                found["ready"] = loaded()
                found["dashboard"] = status("/dashboard")
                found["after"] = loaded()
                break
            time.sleep(0.1)
    finally:
        print(json.dumps(found), flush=True)
        os.kill(os.getpid(), signal.SIGTERM)


threading.Thread(target=watch, daemon=True).start()
sys.argv = ["achtje", "run"]
from bot.cli import main
main()
"""
# Not tornado: python-telegram-bot imports it whenever it is installed, and a venv made
# before the `[webhooks]` extra was dropped still has it. Not APScheduler: it runs the
# scheduler's tick from the start.
WATCHED = ("matplotlib", "jinja2", "adapters.dashboard.app", "adapters.dashboard.pages",
           "alembic", "holidays")


async def test_run_is_ready_without_the_dashboard_charts_or_migrations_loaded(
    tmp_path: Path,
) -> None:
    slack, telegram = FakeSlack(), FakeTelegram()
    await slack.start()
    await telegram.start()
    env = {**without_settings(), "ACHTJE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/a.db",
           "ACHTJE_HTTP_PORT": str(closed_port()), "SLACK_BOT_TOKEN": BOT_TOKEN,
           "SLACK_SIGNING_SECRET": SIGNING_SECRET, "ACHTJE_SLACK_API_URL": slack.api_url,
           "TELEGRAM_BOT_TOKEN": telegram.token, "ACHTJE_TELEGRAM_API_URL": telegram.url,
           "ACHTJE_TELEGRAM_WEBHOOK_URL": "https://achtje.example.nl/telegram/webhook",
           "ACHTJE_TELEGRAM_WEBHOOK_SECRET": "secret-of-the-test",
           "ACHTJE_SCHEDULER_TICK": "3600"}
    try:
        upgraded = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("achtje")), "db", "upgrade", env=env,
            cwd=tmp_path, stdout=subprocess.DEVNULL)
        assert await upgraded.wait() == 0
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD.format(watched=WATCHED), env=env, cwd=tmp_path,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await asyncio.wait_for(child.communicate(), 180)
    finally:
        await slack.stop()
        await telegram.stop()
    assert child.returncode == 0, err.decode()[-3000:]
    found = json.loads(out.decode().strip().splitlines()[-1])
    assert found["ready"] == [], "loaded before ready, not needed to answer a message"
    # The dashboard still answers its first request (no session: the page saying how to
    # get a link), and only now loads.
    assert found["dashboard"] == 401
    assert {"adapters.dashboard.app", "jinja2"} <= set(found["after"])
