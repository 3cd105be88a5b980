"""The print view as a PDF download (matplotlib, no browser): over real HTTP after logging
in by the chat's link, on SQLite and PostgreSQL; the same words and numbers as the page,
and the same refusals."""

from __future__ import annotations

import re

import aiohttp
from markupsafe import escape

from adapters.dashboard.pages import Pages
from adapters.dashboard.pdf import Heading, Paragraph, Table
from adapters.dashboard.view import Filters, year_view
from bot.content import Content
from bot.engine import Engine
from bot.store.models import Partnership
from bot.summary.year import year_summaries
from tests.conftest import Clock
from tests.dashboard_rig import Sessions, ask_link, school_year, served

PAGE = re.compile(rb"/Type\s*/Page\b(?!s)")


PUBLIC = "http://achtje.example.nl"


async def test_the_print_view_downloads_as_a_pdf(
        sessions: Sessions, content: Content, clock: Clock) -> None:
    engine, public = Engine(sessions, content, clock, public_url=PUBLIC), PUBLIC
    people = await school_year(sessions)
    path, _ = await ask_link(engine, people.leader)
    assert path is not None
    own = f"/dashboard/{people.partnership_id}"
    async with served(sessions, content, clock, public) as server, aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        anonymous = await http.get(server.url + own + "/summary.pdf")
        assert anonymous.status == 401
        taken = await http.post(server.url + path, allow_redirects=False)
        assert taken.status == 303
        http.cookie_jar.update_cookies(taken.cookies)
        page = await http.get(server.url + own + "?school=vmbo")
        html = await page.text()
        assert f'href="{own}/summary.pdf?year=2026&amp;school=vmbo"' in html
        pdf = await http.get(server.url + own + "/summary.pdf?year=2026&school=vmbo")
        data = await pdf.read()
        assert pdf.status == 200 and pdf.headers["Content-Type"] == "application/pdf"
        assert pdf.headers["Content-Disposition"] == \
            f'attachment; filename="achtje-{people.partnership_id}-2026-2027.pdf"'
        assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
        assert len(PAGE.findall(data)) >= 2  # the chart and tables, then gaps and agenda
        assert b"/FontFile2" in data and b"/ToUnicode" in data  # text one can search
        foreign = await http.get(
            server.url + f"/dashboard/{people.other_partnership_id}/summary.pdf")
        assert foreign.status == 403
    # What the PDF holds is what the page says, word for word.
    async with sessions() as session:
        partnership = await session.get(Partnership, people.partnership_id)
        assert partnership is not None
        summaries = await year_summaries(session, content, partnership, 2026, clock.now)
    view = year_view(summaries, Filters(2026, side="vmbo"), partnership.min_group_size)
    document = Pages(content).document(view, partnership, "nl")
    texts = [t for block in document for t in (
        block.rows[0] if isinstance(block, Table) else
        (block.text,) if isinstance(block, Heading | Paragraph) else ())]
    assert "oktober 2026" in texts and len(texts) > 20
    for text in texts:  # an agenda question is numbered in the PDF, a list item on the page
        assert str(escape(re.sub(r"^\d\. ", "", text))) in html, text


def test_a_name_with_dollar_signs_is_printed_as_written(content: Content) -> None:
    """matplotlib reads text between two dollar signs as a formula: a partnership's name
    must be drawn as typed, and one that is no valid formula must not break the PDF."""
    partnership = Partnership(id=7, name=r"Samen $\frac$ sterk, $5 of $6", timezone="UTC")
    view = year_view([], Filters(2026), 3)
    data = Pages(content).pdf(view, partnership, "nl")
    assert data.startswith(b"%PDF-")
