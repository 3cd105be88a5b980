"""The dashboard's school filter over real HTTP, as a project leader uses it: two vmbo
schools and an mbo college; choose a school and see its own line, a month that could not
show it stays empty, school and level together show nothing, and the download has a row
per school."""

from __future__ import annotations

import csv
import io
import re

import aiohttp
import pytest
from markupsafe import escape

from bot.content import Content
from bot.domain import LEADER
from bot.engine import Engine
from tests.conftest import Clock
from tests.dashboard_rig import ANCHORS, Sessions, ask_link, give_role, served, user_ref
from tests.summary_fakes import OCT, SEP, Partners

SCHOOL = 'De <Brug> & "Zn"'  # a name that must be escaped


@pytest.fixture
def public() -> str:
    return "http://achtje.example.nl"


@pytest.fixture
def engine(sessions: Sessions, content: Content, clock: Clock, public: str) -> Engine:
    """The chat, with ACHTJE_PUBLIC_URL for the dashboard's links."""
    return Engine(sessions, content, clock, enrol_strangers=True, public_url=public)


def month_row(html: str, month: str) -> list[str]:
    """The cells of the conditions table's row of `month`."""
    row = re.search(rf'<tr><th scope="row">{month}</th>(.*?)</tr>', html)
    assert row is not None, month
    return re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))


async def test_a_leader_chooses_a_school_and_sees_its_line(
        sessions: Sessions, content: Content, clock: Clock, engine: Engine,
        public: str) -> None:
    partners = await Partners.create(sessions)
    brug = await partners.school("brug", SCHOOL, "vmbo")
    north = await partners.members("vmbo", "teachers", 4)  # Vmbo Noorderlicht: 4 each month
    bridge = await partners.members("brug", "teachers", 3)
    college = await partners.members("mbo", "teachers", 3)
    for day, bridge_answers in ((SEP, 2), (OCT, 3)):  # in September one of the three is away
        round_id = await partners.round(day, ANCHORS)
        for statement in ANCHORS:
            await partners.answer(round_id, statement, north + bridge + college,
                                  [4] * 4 + [2] * bridge_answers + [None] * (3 - bridge_answers)
                                  + [3] * 3)
    [leader] = await partners.members("vmbo", "management", 1)
    await give_role(sessions, leader, LEADER)
    path, _ = await ask_link(engine, await user_ref(sessions, leader))
    assert path is not None
    north_id = partners.schools["vmbo"]
    async with served(sessions, content, clock, public) as server, aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        taken = await http.post(server.url + path, allow_redirects=False)
        assert taken.status == 303
        http.cookie_jar.update_cookies(taken.cookies)
        base = server.url + f"/dashboard/{partners.partnership.id}"
        everyone = await (await http.get(base)).text()
        # The schools are offered by name (escaped), next to the school types.
        assert f'<option value="{brug}">{escape(SCHOOL)} (vmbo)</option>' in everyone
        assert f'<option value="{north_id}">Vmbo Noorderlicht (vmbo)</option>' in everyone
        assert 'value="vmbo"' in everyone and SCHOOL not in everyone

        mine = await (await http.get(base + f"?school={brug}")).text()
        assert escape(content.text("dashboard_showing", "nl", group=f"{SCHOOL} (vmbo)")) \
            in mine
        assert f'<option value="{brug}" selected>' in mine
        # October: the bridge school's own three, all 2; the five lines have a point there.
        assert month_row(mine, "oktober 2026") == ["2,0 (n=3)"] * 5
        assert mine.count('<g class="line"') == 5
        # September: two of them answered, too few; Noorderlicht (4) hides with it, or
        # vmbo (6) minus Noorderlicht would give the two away. vmbo itself still shows.
        assert month_row(mine, "september 2026") == ["niet getoond"] * 5
        north_page = await (await http.get(base + f"?school={north_id}")).text()
        assert month_row(north_page, "september 2026") == ["niet getoond"] * 5
        assert month_row(north_page, "oktober 2026") == ["4,0 (n=4)"] * 5
        # Between schools: October shows all three, Noorderlicht 4,0 against the bridge
        # school's 2,0; September shows one school, so no difference there.
        between = everyone[everyone.index(content.text("dashboard_gaps_schools", "nl")):]
        assert month_row(between, "oktober 2026") == [escape(content.text(
            "dashboard_gap", "nl", high="Vmbo Noorderlicht", high_mean="4,0", low=SCHOOL,
            low_mean="2,0", size="2,0"))] * 5
        assert month_row(between, "september 2026") == [
            content.text("dashboard_no_gap", "nl")] * 5
        vmbo = await (await http.get(base + "?school=vmbo")).text()
        assert month_row(vmbo, "september 2026") == ["3,3 (n=6)"] * 5
        # A school and a level at once: nothing, and the page says why.
        both = await (await http.get(base + f"?school={brug}&level=teachers")).text()
        assert escape(content.text("dashboard_filter_both", "nl")) in both
        assert "<polyline" not in both and "n=" not in "".join(
            month_row(both, "oktober 2026"))
        # An id that is no school of this partnership means everyone.
        other = await (await http.get(base + "?school=999999")).text()
        assert month_row(other, "oktober 2026") == month_row(everyone, "oktober 2026")
        # The PDF link keeps the school.
        assert f"summary.pdf?year=2026&amp;school={brug}" in mine

        download = await (await http.get(base + "/summary.csv?year=2026")).text()
    rows = [r for r in csv.DictReader(io.StringIO(download))
            if r["topic"] == "ambition" and r["group_kind"] == "school"]
    found = {(r["month"], r["group_name"]): (r["respondents"], r["mean"], r["suppressed"])
             for r in rows}
    assert found == {
        ("2026-09", SCHOOL): ("", "", "below_threshold"),
        ("2026-09", "Vmbo Noorderlicht"): ("", "", "below_threshold"),
        ("2026-09", "Mbo Vakcollege"): ("3", "3.00", ""),
        ("2026-10", SCHOOL): ("3", "2.00", ""),
        ("2026-10", "Vmbo Noorderlicht"): ("4", "4.00", ""),
        ("2026-10", "Mbo Vakcollege"): ("3", "3.00", ""),
    }
