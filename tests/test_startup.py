"""Starting several processes at once on an empty database, and a database that is not
there: the installed `achtje` command in real subprocesses, as an operator starts it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
from asyncio.subprocess import Process
from pathlib import Path

import aiohttp
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.store import db
from tests.conftest import POSTGRES_URL, postgres_only, reset_postgres, without_settings
from tests.telegram_fakes import FakeTelegram

ACHTJE = Path(sys.executable).with_name("achtje")
TIMEOUT = 120


def clean_env(url: str) -> dict[str, str]:
    env = without_settings()
    env["ACHTJE_DATABASE_URL"] = url
    return env


def start(args: list[str], url: str, folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([str(ACHTJE), *args], cwd=folder, env=clean_env(url), text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


@pytest.mark.postgres
@postgres_only
async def test_three_upgrades_started_together_on_an_empty_database_all_succeed(
    tmp_path: Path,
) -> None:
    assert POSTGRES_URL
    head = ScriptDirectory.from_config(db.alembic_config()).get_current_head()
    for _ in range(2):  # before the lock this failed in 3 of 3 tries
        await reset_postgres(POSTGRES_URL)
        started = [start(["db", "upgrade"], POSTGRES_URL, tmp_path) for _ in range(3)]
        results = [(p.wait(TIMEOUT), *p.communicate()) for p in started]
        for code, out, err in results:
            assert (code, out.strip()) == (0, "database is up to date"), err[-2000:]
            assert "Traceback" not in err
        engine = db.create_engine(POSTGRES_URL)
        try:
            async with engine.connect() as connection:
                versions = (await connection.execute(
                    text("SELECT version_num FROM alembic_version"))).scalars().all()
        finally:
            await engine.dispose()
        assert versions == [head]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("args", [["db", "upgrade"], ["partnership", "list"],
                                  ["schedule", "preview", "--partnership", "1"]])
def test_a_database_that_cannot_be_reached_is_one_clear_line(
    tmp_path: Path, args: list[str],
) -> None:
    port = closed_port()
    url = f"postgresql://achtje:geheim-wachtwoord@127.0.0.1:{port}/achtje"
    done = start(args, url, tmp_path)
    code = done.wait(TIMEOUT)
    out, err = done.communicate()
    assert code != 0
    assert err.strip() == (
        f"cannot connect to the database (PostgreSQL at 127.0.0.1:{port}, database achtje): "
        "connection refused. Check ACHTJE_DATABASE_URL and that the database server is "
        "running and lets this user in.")
    assert "geheim" not in out + err


def test_run_with_a_platform_and_no_database_says_so_in_one_line(tmp_path: Path) -> None:
    url = f"postgresql://achtje:geheim@127.0.0.1:{closed_port()}/achtje"
    env = {**clean_env(url), "TELEGRAM_BOT_TOKEN": "123:abc",
           "ACHTJE_TELEGRAM_API_URL": "http://127.0.0.1:9"}
    done = subprocess.run([str(ACHTJE), "run"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT, check=False)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("cannot connect to the database (PostgreSQL at 127.0.0.1:")
    assert "Traceback" not in done.stderr and "geheim" not in done.stderr


@pytest.mark.postgres
@postgres_only
async def test_three_services_started_together_on_an_empty_database_all_become_ready(
    tmp_path: Path,
) -> None:
    """Three `achtje run` with Telegram (polling) at once: each migrates or waits for the
    one that does, each answers /healthz 200, each stops cleanly on SIGTERM."""
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    fake = FakeTelegram()
    await fake.start()
    ports = [closed_port() for _ in range(3)]
    started = []
    try:
        for port in ports:
            env = {**clean_env(POSTGRES_URL), "TELEGRAM_BOT_TOKEN": fake.token,
                   "ACHTJE_TELEGRAM_API_URL": fake.url, "ACHTJE_HTTP_PORT": str(port),
                   "ACHTJE_SCHEDULER_TICK": "1"}
            started.append(await asyncio.create_subprocess_exec(
                str(ACHTJE), "run", cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        async with aiohttp.ClientSession() as http:
            for port, process in zip(ports, started, strict=True):
                assert await ready(http, f"http://127.0.0.1:{port}/healthz", process)
    finally:
        for process in started:
            if process.returncode is None:
                process.terminate()
        results = [(await p.wait(), (await p.communicate())[1]) for p in started]
        await fake.stop()
    for code, err in results:
        assert code == 0, err.decode()[-2000:]
        # What the race looked like before the lock: a second CREATE of the same table.
        assert b"UniqueViolation" not in err and b"DuplicateTable" not in err


async def ready(http: aiohttp.ClientSession, url: str, process: Process) -> bool:
    for _ in range(1200):
        if process.returncode is not None:
            return False
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get(url) as response:
                if response.status == 200 and await response.json() == {"status": "ok"}:
                    return True
        await asyncio.sleep(0.1)
    return False


@pytest.mark.parametrize("url", ["achtje.db", "mysql://achtje:geheim@db/achtje"])
def test_a_database_url_achtje_cannot_use_is_one_clear_line(tmp_path: Path, url: str) -> None:
    done = start(["db", "upgrade"], url, tmp_path)
    code = done.wait(TIMEOUT)
    _, err = done.communicate()
    assert (code, err.strip()) == (1, "ACHTJE_DATABASE_URL is not a database achtje can use: "
                                      "write sqlite:///path/to/achtje.db or "
                                      "postgresql://user:password@host:5432/name")
