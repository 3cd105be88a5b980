"""The dashboard in a real headless browser: Debian's chromium (/usr/bin/chromium, which
.ci/run installs) driven by Playwright. One browser per backend for the whole story: log
in by the chat's link, see the five lines, switch filters, the print view, and the
refusals (a reused link, an expired one, another partnership's id, a member's link). And
a board member in no chat who asks for a link by mail (a real SMTP server) and opens it.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from datetime import timedelta

import pytest
from playwright.async_api import async_playwright
from sqlalchemy import select

from adapters.email.adapter import EmailAdapter
from adapters.email.smtp import MailServer
from bot.content import Content
from bot.engine import Engine
from bot.partnerships_cli import import_members
from bot.store.dashboard import create_link
from bot.store.models import Member
from tests.conftest import Clock
from tests.dashboard_rig import Sessions, ask_link, school_year, served
from tests.email_helpers import SECRET_KEY
from tests.smtp_fakes import smtp_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TIMEOUT_MS = 10_000  # a step that waits longer has failed
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is missing: apt-get install chromium")


async def test_the_dashboard_in_a_browser(sessions: Sessions, content: Content,
                                          clock: Clock) -> None:
    engine = Engine(sessions, content, clock, public_url="http://achtje.example.nl")
    people = await school_year(sessions)
    expired, _ = await ask_link(engine, people.leader)
    clock.advance(minutes=16)
    link, _ = await ask_link(engine, people.leader)
    assert expired and link
    async with sessions() as session, session.begin():
        plain = await session.scalar(select(Member.id).where(Member.user_ref == people.member))
        assert plain is not None
        forged = await create_link(session, plain, clock.now, timedelta(minutes=15))
    invalid = content.text("dashboard_link_invalid", "nl")
    forbidden = content.text("dashboard_forbidden", "nl")
    own = f"/dashboard/{people.partnership_id}"
    async with served(sessions, content, clock) as server, \
            async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM,
                                               args=["--no-sandbox"])
        try:
            page = await browser.new_page(locale="nl-NL")
            page.set_default_timeout(TIMEOUT_MS)
            # Log in by the chat's link: a page with one button; keyboard only.
            await page.goto(server.url + link)
            await page.keyboard.press("Tab")  # the skip link comes first
            assert await page.evaluate("document.activeElement.className") == "skip"
            await page.get_by_role("button", name=content.text("dashboard_login_button", "nl")
                                   ).focus()
            await page.keyboard.press("Enter")
            await page.wait_for_url(f"**{own}")
            assert await page.locator("h1").first.inner_text() == "Dashboard Leerlab Zuid"
            # The five lines, with the chart's text alternative and the numbers' table.
            chart = page.get_by_role("img", name=content.text(
                "dashboard_chart_title", "nl", year="2026-2027"))
            await chart.wait_for()
            assert await page.locator("svg.chart g.line").count() == 5
            assert await page.locator("svg.chart g.line polyline").count() == 5
            assert await page.locator("svg.chart desc").count() == 1
            assert "oktober 2026" in await page.locator("table").first.inner_text()
            # Filters: a school type, then an earlier school year.
            await page.select_option("#filter-school", "vmbo")
            await page.click("#filter-apply")
            await page.wait_for_url("**school=vmbo**")
            assert await page.locator("#filter-school").input_value() == "vmbo"
            assert await page.locator("svg.chart g.line").count() == 5
            assert "vmbo" in await page.locator("p.year").inner_text()
            # One school of the partnership, chosen by its name: its own line and numbers.
            await page.select_option("#filter-school", label="Vmbo Noorderlicht (vmbo)")
            await page.click("#filter-apply")
            await page.wait_for_url(re.compile(r".*school=\d+.*"))
            assert "Vmbo Noorderlicht" in await page.locator("p.year").inner_text()
            assert await page.locator("svg.chart g.line polyline").count() == 5
            october = await page.locator("table").first.locator(
                "tr", has_text="oktober 2026").inner_text()
            assert october.count("(n=7)") == 5  # its four teachers and three managers
            await page.select_option("#filter-year", "2025")
            await page.select_option("#filter-school", "")
            await page.click("#filter-apply")
            await page.wait_for_url("**year=2025**")
            assert "juni 2026" in await page.locator("table").first.inner_text()
            # The print view: no filters or buttons, the chart and the tables stay.
            await page.emulate_media(media="print")
            assert not await page.locator("form.filters").is_visible()
            assert not await page.locator("#download").is_visible()
            assert not await page.locator("#download-pdf").is_visible()
            assert await page.locator("svg.chart").is_visible()
            assert len(await page.pdf(format="A4")) > 1000
            await page.emulate_media(media="screen")
            # Refusals: another partnership's id, the reused link, an expired one, a
            # member's link.
            await page.goto(server.url + f"/dashboard/{people.other_partnership_id}")
            assert forbidden in await page.locator("main").inner_text()
            fresh = await browser.new_page(locale="nl-NL")
            fresh.set_default_timeout(TIMEOUT_MS)
            for path in (link, expired):  # refused before any button
                await fresh.goto(server.url + path)
                assert invalid in await fresh.locator("main").inner_text(), path
            await fresh.goto(server.url + f"/dashboard/login/{forged}")
            await fresh.get_by_role("button").click()
            await fresh.wait_for_load_state()
            assert forbidden in await fresh.locator("main").inner_text()
            await fresh.goto(server.url + own)
            assert content.text("dashboard_no_session", "nl") in await fresh.locator(
                "main").inner_text()
        finally:
            await browser.close()


async def test_a_board_member_in_no_chat_gets_in_by_mail(sessions: Sessions, content: Content,
                                                        clock: Clock) -> None:
    people = await school_year(sessions)
    async with sessions() as session, session.begin():
        await import_members(session, content, [{
            "partnership": str(people.partnership_id), "platform": "", "user": "",
            "name": "Bea", "school": "Vmbo Noorderlicht", "level": "board",
            "email": "bea@bestuur.example"}], clock.now)
    public = "http://achtje.example.nl"
    async with smtp_server() as mailbox:
        mail = EmailAdapter(MailServer.parse(f"smtp://127.0.0.1:{mailbox.port}"),
                            "achtje@leerlab.example", sessions, content, SECRET_KEY, public)
        async with served(sessions, content, clock, public, mail) as server, \
                async_playwright() as driver:
            browser = await driver.chromium.launch(executable_path=CHROMIUM,
                                                   args=["--no-sandbox"])
            try:
                page = await browser.new_page(locale="nl-NL")
                page.set_default_timeout(TIMEOUT_MS)
                # Not logged in: the page points to the way in by mail.
                await page.goto(server.url + f"/dashboard/{people.partnership_id}")
                await page.get_by_role("link", name=content.text(
                    "dashboard_mail_login_link", "nl")).click()
                await page.wait_for_url("**/dashboard/login")
                field = page.get_by_label(content.text("dashboard_mail_login_label", "nl"))
                await field.fill("bea@bestuur.example")
                await field.press("Enter")  # keyboard only
                await page.wait_for_load_state()
                assert content.text("dashboard_mail_login_sent", "nl") in \
                    await page.locator("main").inner_text()
                for _ in range(500):
                    if mailbox.accepted:
                        break
                    await asyncio.sleep(0.01)
                [(to, message)] = mailbox.accepted
                assert to == "bea@bestuur.example"
                found = re.search(r"/dashboard/login/[A-Za-z0-9_-]+",
                                  message.get_content())  # type: ignore[attr-defined]
                assert found is not None
                await page.goto(server.url + found.group(0))
                await page.get_by_role("button", name=content.text(
                    "dashboard_login_button", "nl")).click()
                await page.wait_for_url(f"**/dashboard/{people.partnership_id}")
                assert await page.locator("svg.chart g.line").count() == 5
            finally:
                await browser.close()
