"""The dashboard's routes on the shared aiohttp server, and who may see what.

    GET  /dashboard/login/{token}   a page with one button (a link preview in a chat
                                    fetches GET, so GET takes nothing)
    POST /dashboard/login/{token}   takes the one-time link, starts a session (cookie),
                                    on to the partnership's page
    GET  /dashboard                 on to the session's partnership, or how to get a link
    GET  /dashboard/{id}            the school year (?year=&school=&level=)
    GET  /dashboard/{id}/summary.csv  the same months as CSV
    POST /dashboard/logout          ends the session

Every page looks the session's member up again and checks that they still lead or sit on
the board of that very partnership: another partnership's id, an erased member (their
sessions go with them) or one who is no longer leader or board is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.dashboard.pages import Pages
from adapters.dashboard.view import Filters, year_view
from bot.content import Content
from bot.domain import LANGS
from bot.flows.dashboard import may_open
from bot.store import dashboard as store
from bot.store.models import MAX_ID, Member, Partnership
from bot.summary.export import summary_csv
from bot.summary.model import Summary
from bot.summary.year import school_years, year_summaries

logger = logging.getLogger(__name__)

COOKIE = "achtje_dashboard"
SESSION_HOURS = 8
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no-referrer would make form posts say Origin: null
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
Clock = Callable[[], datetime]
Sessions = async_sessionmaker[AsyncSession]


class Refusal(Exception):
    """A page that may not be shown: the status and the words (`key`) to show instead."""

    def __init__(self, status: int, key: str, lang: str) -> None:
        super().__init__(key)
        self.status, self.key, self.lang = status, key, lang


class Dashboard:
    """The dashboard's handlers; `mount` adds them to the web server."""

    def __init__(self, sessions: Sessions, content: Content, *, public_url: str | None,
                 clock: Clock | None = None, session_hours: float = SESSION_HOURS) -> None:
        self.sessions = sessions
        self.content = content
        self.pages = Pages(content)
        self.secure = (public_url or "").lower().startswith("https://")
        self.clock = clock or (lambda: datetime.now(UTC))
        self.session_valid = timedelta(hours=session_hours)

    def routes(self) -> list[tuple[str, str, Any]]:
        return [("GET", "/dashboard", self.home),
                ("GET", "/dashboard/login/{token}", self.login_page),
                ("POST", "/dashboard/login/{token}", self.login),
                ("POST", "/dashboard/logout", self.logout),
                ("GET", r"/dashboard/{partnership:\d{1,10}}", self.page),
                ("GET", r"/dashboard/{partnership:\d{1,10}}/summary.csv", self.csv)]

    # --- handlers

    async def home(self, request: web.Request) -> web.StreamResponse:
        async with self.sessions() as session, session.begin():
            member = await self._session_member(session, request)
        if member is None or not may_open(member):
            return self._html(self.pages.message("dashboard_no_session", _lang(request)), 401)
        raise web.HTTPSeeOther(f"/dashboard/{member.partnership_id}", headers=HEADERS)

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        """The button that takes the link, in the member's language; nothing is taken."""
        async with self.sessions() as session:
            member_id = await store.peek_link(session, request.match_info["token"],
                                              self.clock())
            member = await session.get(Member, member_id) if member_id is not None else None
        if member is None:
            return self._html(self.pages.message("dashboard_link_invalid", _lang(request)),
                              403)
        return self._html(self.pages.login(request.path, member.language))

    async def login(self, request: web.Request) -> web.StreamResponse:
        lang = _lang(request)
        if not _same_origin(request):
            return self._html(self.pages.message("dashboard_link_invalid", lang), 403)
        now = self.clock()
        async with self.sessions() as session, session.begin():
            member_id = await store.take_link(session, request.match_info["token"], now)
            member = await session.get(Member, member_id) if member_id is not None else None
            if member is None:
                return self._html(self.pages.message("dashboard_link_invalid", lang), 403)
            if not may_open(member):
                return self._html(self.pages.message("dashboard_forbidden", member.language),
                                  403)
            token = await store.start_session(session, member.id, now, self.session_valid)
            await store.forget_expired(session, now)
            target = f"/dashboard/{member.partnership_id}"
        logger.info("dashboard session started for member %s", member_id)
        response = web.HTTPSeeOther(target, headers=HEADERS)
        response.set_cookie(COOKIE, token, max_age=int(self.session_valid.total_seconds()),
                            path="/dashboard", secure=self.secure or request.secure,
                            httponly=True, samesite="Lax")
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        token = request.cookies.get(COOKIE)
        if token and _same_origin(request):
            async with self.sessions() as session, session.begin():
                await store.end_session(session, token)
        response = self._html(self.pages.message("dashboard_logged_out", _lang(request)))
        response.del_cookie(COOKIE, path="/dashboard")
        return response

    async def _year(self, session: AsyncSession, request: web.Request
                    ) -> tuple[Member, Partnership, list[int], Filters, list[Summary]]:
        """Who asks (refused unless allowed), their partnership, its school years, the
        filters asked for and the frozen summaries of the chosen year."""
        member, partnership = await self._allowed(session, request)
        now = self.clock()
        years = await school_years(session, partnership, now)
        filters = _filters(request, years)
        summaries = (await year_summaries(session, self.content, partnership, filters.year, now)
                     if years else [])
        return member, partnership, years, filters, summaries

    async def page(self, request: web.Request) -> web.StreamResponse:
        try:
            async with self.sessions() as session, session.begin():
                member, partnership, years, filters, summaries = await self._year(
                    session, request)
                view = year_view(summaries, filters, partnership.min_group_size)
                filters = _valid_groups(filters, view.sides, view.levels)
                if filters != view.filters:
                    view = year_view(summaries, filters, partnership.min_group_size)
                html = self.pages.dashboard(view, partnership, years, member.language)
        except Refusal as refusal:
            return self._html(self.pages.message(refusal.key, refusal.lang), refusal.status)
        return self._html(html)

    async def csv(self, request: web.Request) -> web.StreamResponse:
        try:
            async with self.sessions() as session, session.begin():
                _, partnership, _, filters, summaries = await self._year(session, request)
        except Refusal as refusal:
            return self._html(self.pages.message(refusal.key, refusal.lang), refusal.status)
        name = f"achtje-{partnership.id}-{filters.year}-{filters.year + 1}.csv"
        return web.Response(
            text=summary_csv(summaries), content_type="text/csv", charset="utf-8",
            headers={**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})

    # --- who may

    async def _session_member(self, session: AsyncSession,
                              request: web.Request) -> Member | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        member_id = await store.session_member(session, token, self.clock())
        return None if member_id is None else await session.get(Member, member_id)

    async def _allowed(self, session: AsyncSession,
                       request: web.Request) -> tuple[Member, Partnership]:
        """The session's member and the partnership of the URL, when they may see it."""
        member = await self._session_member(session, request)
        if member is None:
            raise Refusal(401, "dashboard_no_session", _lang(request))
        wanted = int(request.match_info["partnership"])
        if wanted > MAX_ID or member.partnership_id != wanted or not may_open(member):
            logger.info("dashboard refused member %s for partnership %s", member.id, wanted)
            raise Refusal(403, "dashboard_forbidden", member.language)
        partnership = await session.get(Partnership, wanted)
        if partnership is None:
            raise Refusal(403, "dashboard_forbidden", member.language)
        return member, partnership

    def _html(self, html: str, status: int = 200) -> web.Response:
        return web.Response(text=html, status=status, content_type="text/html",
                            charset="utf-8", headers=HEADERS)


def mount(server: Any, dashboard: Dashboard) -> None:
    """Add the dashboard's routes to the shared web server (adapters/web.py)."""
    for method, path, handler in dashboard.routes():
        server.add_route(method, path, handler)


def _lang(request: web.Request) -> str:
    """Before anyone is known: English for a browser that asks for it first, else Dutch."""
    wanted = request.headers.get("Accept-Language", "").split(",")[0].strip().lower()
    return "en" if wanted.startswith("en") and "en" in LANGS else LANGS[0]


def _same_origin(request: web.Request) -> bool:
    """A form post from our own page: no Origin header (older browsers), or ours."""
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


def _filters(request: web.Request, years: list[int]) -> Filters:
    query = request.query
    year = query.get("year", "")
    chosen = int(year) if year.isdigit() and int(year) in years else (
        years[0] if years else 0)
    return Filters(chosen, query.get("school") or None, query.get("level") or None)


def _valid_groups(filters: Filters, sides: tuple[str, ...],
                  levels: tuple[str, ...]) -> Filters:
    """Only groups the year's frozen months hold; anything else means everyone."""
    return Filters(filters.year, filters.side if filters.side in sides else None,
                   filters.level if filters.level in levels else None)

