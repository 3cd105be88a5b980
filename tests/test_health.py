"""`GET /healthz` as a load balancer sees it: the real service (`bot.service.serve`) against
the fake Slack and Telegram servers, with good and bad tokens, in Socket Mode and polling
(which need no HTTP server of their own), and with the database gone mid-run."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import make_url

from bot.content import Content
from bot.service import serve
from bot.settings import Settings
from tests.conftest import POSTGRES_URL, postgres_only, reset_postgres
from tests.slack_fakes import BOT_TOKEN, FakeSlack
from tests.telegram_fakes import FakeTelegram

APP_TOKEN = "xapp-1-A1-1-fake"
Health = tuple[int, dict[str, Any]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def service(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: Content, database_url: str,
    **env: str,
) -> AsyncIterator[str]:
    """`serve()` with exactly these settings in the environment; yields its health URL."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    for key in list(Settings.model_fields):
        alias = Settings.model_fields[key].alias
        if alias:
            monkeypatch.delenv(alias, raising=False)
    port = free_port()
    for key, value in {"ACHTJE_DATABASE_URL": database_url, "ACHTJE_SCHEDULER": "false",
                       "ACHTJE_HTTP_PORT": str(port), **env}.items():
        monkeypatch.setenv(key, value)
    stop = asyncio.Event()
    running = asyncio.create_task(serve(Settings(), content, stop))
    try:
        yield f"http://127.0.0.1:{port}/healthz"
        assert not running.done(), running.exception()  # still up, however unhealthy
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=30)


async def health(url: str, settled: bool = True) -> Health:
    """The answer of /healthz; with `settled`, once no platform is still starting."""
    async with aiohttp.ClientSession() as http:
        for _ in range(400):
            try:
                async with http.get(url) as response:
                    found = (response.status, await response.json())
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
                continue
            reasons = found[1].get("reasons", {})
            if not settled or "not started yet" not in reasons.values():
                return found
            await asyncio.sleep(0.05)
    raise AssertionError(f"no settled answer from {url}")


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


async def test_telegram_polling_with_a_good_token_is_ready(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: Content, database_url: str,
    telegram: FakeTelegram,
) -> None:
    async with service(monkeypatch, tmp_path, content, database_url,
                       TELEGRAM_BOT_TOKEN=telegram.token,
                       ACHTJE_TELEGRAM_API_URL=telegram.url) as url:
        assert await health(url) == (200, {"status": "ok"})
        assert telegram.called("getMe")


async def test_a_refused_telegram_token_is_not_ready_and_says_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: Content, database_url: str,
    telegram: FakeTelegram,
) -> None:
    async with service(monkeypatch, tmp_path, content, database_url,
                       TELEGRAM_BOT_TOKEN="999:wrong", ACHTJE_TELEGRAM_API_URL=telegram.url
                       ) as url:
        status, body = await health(url)
        assert status == 503 and body["status"] == "unavailable"
        assert list(body["reasons"]) == ["telegram"]
        assert "refused TELEGRAM_BOT_TOKEN" in body["reasons"]["telegram"]
        assert "999:wrong" not in str(body)
        assert not telegram.called("getUpdates")  # nothing runs on a refused token


async def test_slack_socket_mode_with_a_good_token_is_ready(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: Content, database_url: str,
    slack: FakeSlack,
) -> None:
    async with service(monkeypatch, tmp_path, content, database_url,
                       SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN,
                       ACHTJE_SLACK_API_URL=slack.api_url) as url:
        assert await health(url) == (200, {"status": "ok"})
        assert [c.token for c in slack.of("auth.test")] == [BOT_TOKEN]
        assert slack.of("apps.connections.open")


@pytest.mark.parametrize("refused", ["auth.test", "apps.connections.open"])
async def test_a_refused_slack_token_is_not_ready_and_says_which(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: Content, database_url: str,
    slack: FakeSlack, telegram: FakeTelegram, refused: str,
) -> None:
    slack.fail_next(refused, "invalid_auth")
    async with service(monkeypatch, tmp_path, content, database_url,
                       SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN,
                       ACHTJE_SLACK_API_URL=slack.api_url, TELEGRAM_BOT_TOKEN=telegram.token,
                       ACHTJE_TELEGRAM_API_URL=telegram.url) as url:
        status, body = await health(url)
        setting = "SLACK_BOT_TOKEN" if refused == "auth.test" else "SLACK_APP_TOKEN"
        assert (status, body) == (503, {"status": "unavailable", "reasons": {
            "slack": f"the slack app could not start: Slack refused {setting} (invalid_auth)"}})
        assert telegram.called("getUpdates")  # the other platform runs


class Forwarder:
    """A TCP hop to PostgreSQL that can be cut: the database 'goes down' for the service."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._hop, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _hop(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        self.writers += [writer, up_writer]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.server.wait_closed(), 2)


@pytest.mark.postgres
@postgres_only
async def test_a_database_that_stops_answering_makes_the_process_not_ready(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: Content, telegram: FakeTelegram,
) -> None:
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    real = make_url(POSTGRES_URL)
    hop = Forwarder(real.host or "127.0.0.1", real.port or 5432)
    port = await hop.start()
    url = real.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    async with service(monkeypatch, tmp_path, content, url,
                       TELEGRAM_BOT_TOKEN=telegram.token,
                       ACHTJE_TELEGRAM_API_URL=telegram.url) as health_url:
        assert await health(health_url) == (200, {"status": "ok"})
        await hop.cut()
        status, body = await health(health_url)
        assert (status, body) == (503, {"status": "unavailable",
                                        "reasons": {"database": "connection refused"}})
