"""The dashboard over real HTTP (aiohttp client against adapters/web.py on port 0), on
SQLite and PostgreSQL: the chat's link, the session cookie, and every refusal."""

from __future__ import annotations

import csv
import io
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from markupsafe import escape
from sqlalchemy import func, select

from bot.content import Content
from bot.engine import Engine
from bot.privacy.data import erase_member
from bot.store.dashboard import DashboardLink, DashboardSession, create_link, token_hash
from bot.store.models import Member, Partnership
from tests.conftest import Clock
from tests.dashboard_rig import People, Sessions, ask_link, school_year, served
from tests.test_health import health, service


@pytest.fixture
async def people(sessions: Sessions) -> People:
    return await school_year(sessions)


@pytest.fixture
def public() -> str:
    return "http://achtje.example.nl"  # https makes the cookie Secure: see the test for it


@pytest.fixture
def engine(sessions: Sessions, content: Content, clock: Clock, public: str) -> Engine:
    """The chat, with ACHTJE_PUBLIC_URL for the dashboard's links."""
    return Engine(sessions, content, clock, enrol_strangers=True, public_url=public)


def client() -> aiohttp.ClientSession:
    # unsafe: accept cookies from an IP address (127.0.0.1)
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def log_in(http: aiohttp.ClientSession, base: str, path: str) -> aiohttp.ClientResponse:
    """Open the link (a page with a button, taking nothing) and press the button; a link
    that cannot be taken any more is refused on both."""
    page = await http.get(base + path)
    taken = await http.post(base + path, allow_redirects=False)
    if page.status == 200:
        assert f'method="post" action="{path}"' in await page.text()
    else:
        assert page.status == taken.status == 403
    return taken


async def member_id(sessions: Sessions, user: str) -> int:
    async with sessions() as session:
        found = await session.scalar(select(Member.id).where(Member.user_ref == user))
        assert found is not None
        return int(found)


async def test_a_leaders_link_opens_the_school_year_once(
        sessions: Sessions, content: Content, clock: Clock, engine: Engine, people: People,
        public: str) -> None:
    path, text = await ask_link(engine, people.leader)
    assert path is not None and text.startswith(
        content.text("dashboard_link", "nl", url=public + path, minutes=15)[:40])
    token = path.rsplit("/", 1)[1]
    async with sessions() as session:  # only the hash is kept
        stored = await session.scalar(select(DashboardLink.token_hash))
    assert stored == token_hash(token) and token not in stored
    async with served(sessions, content, clock, public) as server, client() as http:
        answer = await log_in(http, server.url, path)
        assert answer.status == 303
        assert answer.headers["Location"] == f"/dashboard/{people.partnership_id}"
        cookie = answer.headers["Set-Cookie"]
        for attribute in ("HttpOnly", "SameSite=Lax", "Path=/dashboard", "Max-Age=28800"):
            assert attribute in cookie
        assert "Secure" not in cookie and token not in cookie
        http.cookie_jar.update_cookies(answer.cookies)
        page = await http.get(server.url + "/dashboard")  # on to the own partnership
        html = await page.text()
        assert page.status == 200 and str(page.url).endswith(f"/{people.partnership_id}")
        assert html.count('<g class="line" data-condition=') == 5
        assert "Leerlab Zuid" in html and "oktober 2026" in html and "juni" not in html
        assert page.headers["Cache-Control"] == "no-store"
        assert "default-src 'none'" in page.headers["Content-Security-Policy"]
        earlier = await http.get(server.url + f"/dashboard/{people.partnership_id}?year=2025")
        assert "juni 2026" in await earlier.text() and "oktober" not in await earlier.text()
        download = await http.get(server.url + f"/dashboard/{people.partnership_id}"
                                               "/summary.csv?year=2026")
        rows = list(csv.DictReader(io.StringIO(await download.text())))
        assert download.headers["Content-Type"].startswith("text/csv")
        assert {r["month"] for r in rows} == {"2026-08", "2026-09", "2026-10"}
        assert all(r["respondents"] == "" or int(r["respondents"]) >= 3 for r in rows)
        again = await http.post(server.url + path, allow_redirects=False)  # reused
        assert again.status == 403
        assert escape(content.text("dashboard_link_invalid", "nl")) in await again.text()
        out = await http.post(server.url + "/dashboard/logout")
        assert out.status == 200
        after = await http.get(server.url + f"/dashboard/{people.partnership_id}")
        assert after.status == 401


async def test_board_members_get_a_link_members_get_the_refusal(
        sessions: Sessions, content: Content, clock: Clock, engine: Engine, people: People,
        public: str) -> None:
    path, _ = await ask_link(engine, people.board)
    assert path is not None
    none, text = await ask_link(engine, people.member)
    assert none is None and text == content.text("leaders_only", "nl")
    plain = await member_id(sessions, people.member)
    async with sessions() as session, session.begin():  # a link made for a member anyway
        forged = await create_link(session, plain, clock.now, timedelta(minutes=15))
    async with served(sessions, content, clock, public) as server, client() as http:
        answer = await log_in(http, server.url, path)
        assert answer.status == 303
        refused = await log_in(http, server.url, f"/dashboard/login/{forged}")
        assert refused.status == 403
        assert escape(content.text("dashboard_forbidden", "nl")) in await refused.text()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DashboardSession)) == 1


async def test_expired_unknown_and_foreign_links_and_pages_are_refused(
        sessions: Sessions, content: Content, clock: Clock, engine: Engine, people: People,
        public: str) -> None:
    expired, _ = await ask_link(engine, people.leader)
    clock.advance(minutes=16)
    fresh, _ = await ask_link(engine, people.leader)
    foreign, _ = await ask_link(engine, people.other_leader)
    assert expired and fresh and foreign
    async with served(sessions, content, clock, public) as server, client() as http:
        assert (await log_in(http, server.url, expired)).status == 403
        assert (await log_in(http, server.url, "/dashboard/login/made-up")).status == 403
        assert (await http.get(server.url + f"/dashboard/{people.partnership_id}")).status \
            == 401
        answer = await log_in(http, server.url, fresh)
        http.cookie_jar.update_cookies(answer.cookies)
        async with sessions() as session:  # a login tidies up the links that expired
            links = await session.scalar(select(func.count()).select_from(DashboardLink))
        assert links == 2  # the one just taken and the other leader's
        for other in (people.other_partnership_id, 999999, 9999999999):
            page = await http.get(server.url + f"/dashboard/{other}")
            assert page.status in (403, 404), other
            assert "Leerlab" not in await page.text()
            download = await http.get(server.url + f"/dashboard/{other}/summary.csv")
            assert download.status in (403, 404)
        # Someone else's session, from their own link, sees only theirs.
        async with client() as theirs:
            taken = await log_in(theirs, server.url, foreign)
            assert taken.headers["Location"] == f"/dashboard/{people.other_partnership_id}"
            theirs.cookie_jar.update_cookies(taken.cookies)
            page = await theirs.get(server.url + f"/dashboard/{people.partnership_id}")
            assert page.status == 403
        # A session ends: after eight hours it opens nothing.
        clock.advance(hours=8, minutes=1)
        assert (await http.get(server.url + f"/dashboard/{people.partnership_id}")).status \
            == 401


async def test_demoted_or_erased_leaders_are_refused_at_once(
        sessions: Sessions, content: Content, clock: Clock, engine: Engine, people: People,
        public: str) -> None:
    path, _ = await ask_link(engine, people.leader)
    assert path
    leader = await member_id(sessions, people.leader)
    async with served(sessions, content, clock, public) as server, client() as http:
        answer = await log_in(http, server.url, path)
        http.cookie_jar.update_cookies(answer.cookies)
        page = server.url + f"/dashboard/{people.partnership_id}"
        assert (await http.get(page)).status == 200
        async with sessions() as session, session.begin():
            found = await session.get(Member, leader)
            assert found is not None
            found.role = "member"
        assert (await http.get(page)).status == 403
        assert (await http.get(page + "/summary.csv")).status == 403
        async with sessions() as session, session.begin():
            found = await session.get(Member, leader)
            assert found is not None
            found.role = "leader"
        assert (await http.get(page)).status == 200
        async with sessions() as session, session.begin():
            await erase_member(session, leader)
        assert (await http.get(page)).status == 401
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DashboardSession)) == 0


async def test_without_a_public_address_the_chat_says_so_and_logs(
        sessions: Sessions, clock: Clock, people: People, content: Content,
        caplog: pytest.LogCaptureFixture) -> None:
    engine = Engine(sessions, content, clock, enrol_strangers=True)  # no ACHTJE_PUBLIC_URL
    with caplog.at_level(logging.WARNING, logger="bot.flows.dashboard"):
        path, text = await ask_link(engine, people.leader)
    assert path is None and text == content.text("dashboard_no_url", "nl")
    assert "ACHTJE_PUBLIC_URL" in caplog.text


async def test_filters_show_only_groups_the_frozen_months_hold(
        sessions: Sessions, content: Content, clock: Clock, engine: Engine, people: People,
        public: str) -> None:
    path, _ = await ask_link(engine, people.leader)
    assert path
    async with served(sessions, content, clock, public) as server, client() as http:
        answer = await log_in(http, server.url, path)
        http.cookie_jar.update_cookies(answer.cookies)
        base = server.url + f"/dashboard/{people.partnership_id}"
        everyone = await (await http.get(base)).text()
        assert 'value="vmbo"' in everyone and 'value="teachers"' in everyone
        assert 'value="board"' not in everyone  # no month shows the board level
        board = await (await http.get(base + "?level=board")).text()
        assert board.count('<g class="line"') == 5
        assert board.count('<polyline') == everyone.count('<polyline')  # board ignored
        async with sessions() as session, session.begin():  # names are escaped
            partnership = await session.get(Partnership, people.partnership_id)
            assert partnership is not None
            partnership.name = '<script>alert("x")</script> & Co'
        named = await (await http.get(base)).text()
        assert "<script>" not in named and "&lt;script&gt;" in named and "&amp; Co" in named
        both = await (await http.get(base + "?school=vmbo&level=teachers")).text()
        assert escape(content.text("dashboard_filter_both", "nl")) in both
        assert "<polyline" not in both


async def test_the_cookie_is_secure_behind_https(
        sessions: Sessions, content: Content, clock: Clock, people: People) -> None:
    engine = Engine(sessions, content, clock, public_url="https://achtje.example.nl")
    path, text = await ask_link(engine, people.leader)
    assert path and "https://achtje.example.nl/dashboard/login/" in text
    async with served(sessions, content, clock, "https://achtje.example.nl") as server, \
            client() as http:
        answer = await log_in(http, server.url, path)
        assert answer.status == 303 and "Secure" in answer.headers["Set-Cookie"]


async def test_the_service_serves_the_dashboard_on_its_http_server(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: Content,
        database_url: str) -> None:
    engines: list[Engine] = []

    def made(*args: Any, **kwargs: Any) -> Engine:
        engines.append(Engine(*args, **kwargs))
        return engines[-1]

    monkeypatch.setattr("bot.service.Engine", made)
    async with service(monkeypatch, tmp_path, content, database_url,
                       ACHTJE_PUBLIC_URL="https://achtje.example.nl") as healthz:
        assert (await health(healthz))[0] == 200
        # The chat's links to the dashboard go to the address it was given.
        assert [engine.public_url for engine in engines] == ["https://achtje.example.nl"]
        async with client() as http:
            base = healthz.removesuffix("/healthz")
            home = await http.get(base + "/dashboard")
            assert home.status == 401
            assert escape(content.text("dashboard_no_session", "nl")) in await home.text()
            link = await http.get(base + "/dashboard/login/made-up",
                                  headers={"Accept-Language": "en-GB,en"})
            assert link.status == 403
            assert escape(content.text("dashboard_link_invalid", "en")) in await link.text()


async def test_english_speaking_leaders_get_the_page_in_english(
        sessions: Sessions, content: Content, clock: Clock, engine: Engine, people: People,
        public: str) -> None:
    leader = await member_id(sessions, people.leader)
    async with sessions() as session, session.begin():
        found = await session.get(Member, leader)
        assert found is not None
        found.language = "en"
    path, text = await ask_link(engine, people.leader)
    assert path and text.startswith("Here is your personal link")
    async with served(sessions, content, clock, public) as server, client() as http:
        answer = await log_in(http, server.url, path)
        http.cookie_jar.update_cookies(answer.cookies)
        html = await (await http.get(server.url + f"/dashboard/{people.partnership_id}")).text()
        assert '<html lang="en">' in html and "The five conditions over the school year" in html
        assert "October 2026" in html and "Shared ambition" in html
