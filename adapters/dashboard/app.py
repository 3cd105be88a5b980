"""The dashboard's routes on the shared aiohttp server, and who may see what.

    GET  /dashboard/login           asks for an e-mail address (people in no chat)
    POST /dashboard/login           mails a one-time link to a leader or board member with
                                    that address; the same answer for any address
    GET  /dashboard/login/{token}   a page with one button (a link preview in a chat
                                    fetches GET, so GET takes nothing)
    POST /dashboard/login/{token}   takes the one-time link, starts a session (cookie),
                                    on to the partnership's page
    GET  /dashboard                 on to the session's partnership, or how to get a link
    GET  /dashboard/{id}            the school year (?year=&school=&level=; school is a
                                    school type or a school's id)
    GET  /dashboard/{id}/summary.csv  the same months as CSV
    GET  /dashboard/{id}/summary.pdf  the print view as a PDF (A4), with the page's filters
    POST /dashboard/logout          ends the session

Every page looks the session's member up again and checks that they still lead or sit on
the board of that very partnership: another partnership's id, an erased member (their
sessions go with them) or one who is no longer leader or board is refused.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.dashboard.pages import Pages
from adapters.dashboard.view import Filters, YearView, year_view
from bot.content import Content
from bot.domain import LANGS
from bot.flows.dashboard import LINK_MINUTES, login_url, may_open
from bot.mail.address import MAX_ADDRESS, address_problem, clean_address
from bot.mail.store import readers_with_address
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
# Login links by mail: at most this many per address within the window (a link's life),
# so nobody can fill someone's mailbox by typing their address again and again.
MAIL_LINKS_PER_WINDOW = 3
Clock = Callable[[], datetime]
Sessions = async_sessionmaker[AsyncSession]


@runtime_checkable
class LoginMail(Protocol):
    """What sends a login link by mail (adapters/email's EmailAdapter)."""

    async def send_note(self, address: str, name: str, lang: str, subject: str,
                        text: str) -> None: ...


def login_mail(adapters: Iterable[object]) -> LoginMail | None:
    """The adapter that can mail a login link, when mail is set up."""
    return next((a for a in adapters if isinstance(a, LoginMail)), None)


class Refusal(Exception):
    """A page that may not be shown: the status and the words (`key`) to show instead."""

    def __init__(self, status: int, key: str, lang: str) -> None:
        super().__init__(key)
        self.status, self.key, self.lang = status, key, lang


class Dashboard:
    """The dashboard's handlers; `mount_on_first_use` (adapters/dashboard/__init__.py)
    adds them to the web server."""

    def __init__(self, sessions: Sessions, content: Content, *, public_url: str | None,
                 clock: Clock | None = None, session_hours: float = SESSION_HOURS,
                 mail: LoginMail | None = None) -> None:
        self.sessions = sessions
        self.content = content
        self.pages = Pages(content)
        self.public_url = public_url
        self.mail = mail
        self.sending: set[asyncio.Task[None]] = set()  # login links being mailed
        self._one_at_a_time = asyncio.Lock()
        self.secure = (public_url or "").lower().startswith("https://")
        self.clock = clock or (lambda: datetime.now(UTC))
        self.session_valid = timedelta(hours=session_hours)

    # --- handlers

    async def home(self, request: web.Request) -> web.StreamResponse:
        async with self.sessions() as session, session.begin():
            member = await self._session_member(session, request)
        if member is None or not may_open(member):
            return self._html(self.pages.message("dashboard_no_session", _lang(request)), 401)
        raise web.HTTPSeeOther(f"/dashboard/{member.partnership_id}", headers=HEADERS)

    @property
    def mail_login_on(self) -> bool:
        return self.mail is not None and bool(self.public_url)

    async def mail_login_page(self, request: web.Request) -> web.StreamResponse:
        lang = _lang(request)
        if not self.mail_login_on:
            return self._html(self.pages.message("dashboard_mail_login_off", lang), 404)
        return self._html(self.pages.mail_login(lang, LINK_MINUTES))

    async def mail_login(self, request: web.Request) -> web.StreamResponse:
        """Mail a link to the leaders and board members with the address typed. The answer
        is the same whether the address is known, unknown, not allowed or asked too often,
        and the mail goes out after the answer, so nobody learns whose address is on file."""
        lang = _lang(request)
        if not self.mail_login_on:
            return self._html(self.pages.message("dashboard_mail_login_off", lang), 404)
        if not _same_origin(request):
            return self._html(self.pages.message("dashboard_link_invalid", lang), 403)
        form = await request.post()
        typed = str(form.get("email", ""))[:MAX_ADDRESS + 10]
        address = clean_address(typed)
        if address and address_problem(address) is None:
            # After the answer, so how long it takes tells nothing about the address.
            self._later(self._mail_links(address))
        return self._html(self.pages.message("dashboard_mail_login_sent", lang))

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self.sending.add(task)
        task.add_done_callback(self.sending.discard)

    async def _mail_links(self, address: str) -> None:
        try:
            async with self._one_at_a_time:  # so the limit counts the links before it
                note = await self._links_to_mail(address)
        except Exception:  # a database hiccup: the person simply asks again
            logger.exception("login link by mail: asking failed")
            return
        if note is not None:
            await self._send(*note)

    async def _links_to_mail(self, address: str) -> tuple[int, str, str, str, str, str] | None:
        """New links for the readers with this address, as the mail to send (member, to,
        name, language, subject, text); None when there is nobody or they asked too often."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            readers = await readers_with_address(session, address)
            if not readers:
                return None
            ids = [member.id for member in readers]
            recent = await store.links_since(session, ids, now - timedelta(minutes=LINK_MINUTES))
            if recent >= MAIL_LINKS_PER_WINDOW * len(readers):
                logger.info("login link by mail refused: member %s asked too often", ids[0])
                return None
            lines = []
            for member in readers:
                token = await store.create_link(session, member.id, now,
                                                timedelta(minutes=LINK_MINUTES))
                partnership = await session.get(Partnership, member.partnership_id)
                lines.append(self.content.text(
                    "mail_login_line", readers[0].language,
                    partnership=partnership.name if partnership else "achtje",
                    url=login_url(self.public_url or "", token)))
        first = readers[0]
        lang = first.language
        text = "\n\n".join((
            self.content.text("mail_login_hello", lang, minutes=LINK_MINUTES,
                              name=first.display_name.strip() or address.split("@")[0]),
            "\n".join(lines), self.content.text("mail_login_not_you", lang)))
        return (first.id, first.email or address, first.display_name, lang,
                self.content.text("mail_login_subject", lang), text)

    async def _send(self, member_id: int, address: str, name: str, lang: str, subject: str,
                    text: str) -> None:
        assert self.mail is not None
        try:
            await self.mail.send_note(address, name, lang, subject, text)
        except Exception:  # a mail server that is away: the person simply asks again
            logger.exception("login link by mail for member %s was not sent", member_id)
        else:
            logger.info("login link by mail sent to member %s", member_id)

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
                filters = _valid_groups(filters, view)
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

    async def pdf(self, request: web.Request) -> web.StreamResponse:
        """The print view as a PDF, with the page's filters; drawn off the event loop."""
        try:
            async with self.sessions() as session, session.begin():
                member, partnership, _, filters, summaries = await self._year(session, request)
                view = year_view(summaries, filters, partnership.min_group_size)
                filters = _valid_groups(filters, view)
                if filters != view.filters:
                    view = year_view(summaries, filters, partnership.min_group_size)
        except Refusal as refusal:
            return self._html(self.pages.message(refusal.key, refusal.lang), refusal.status)
        data = await asyncio.to_thread(self.pages.pdf, view, partnership, member.language)
        name = f"achtje-{partnership.id}-{filters.year}-{filters.year + 1}.pdf"
        return web.Response(
            body=data, content_type="application/pdf",
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
    school = query.get("school", "")
    # One list offers both: a school type by its name, a school by its id.
    school_id = int(school) if school.isdigit() and len(school) <= 10 else None
    return Filters(chosen, None if school_id is not None else school or None,
                   query.get("level") or None, school_id)


def _valid_groups(filters: Filters, view: YearView) -> Filters:
    """Only groups the year's frozen months hold; anything else means everyone."""
    return Filters(filters.year, filters.side if filters.side in view.sides else None,
                   filters.level if filters.level in view.levels else None,
                   filters.school if view.school is not None else None)

