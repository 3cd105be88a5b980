"""Teams delivery beyond one short message, over real HTTP against the fake Bot Connector:
long texts cut into parts (a retry sends only the parts still missing), and replies in the
thread of a send's first message in a team channel."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.teams.render import too_big
from bot.engine import Engine
from bot.messages import FIRST, DeliveryError, Parts, RetryLater, Text
from bot.store.models import Partnership
from tests.teams_fakes import ANNA, BOB, Teams, running

CHANNEL = "19:general@thread.tacv2"
PERSONAL = "a:personal-29:anna"


@pytest.fixture
async def teams(engine: Engine, partnership: Partnership) -> AsyncIterator[Teams]:
    async for started in running(engine):
        yield started


async def test_a_long_text_goes_in_parts_and_a_retry_sends_only_the_missing_ones(
        teams: Teams) -> None:
    await teams.say(ANNA, "hoi")
    before = len(teams.fake.posts(PERSONAL))
    paragraphs = [f"Alinea {n}: " + "zorg en onderwijs samen " * 400 for n in range(4)]
    long = Text(text="\n\n".join(paragraphs))
    parts = Parts(key=7)
    # The first attempt: two parts go out, then Teams throttles.
    teams.fake.after[PERSONAL] = (2, (429, {"Retry-After": "2"}, {}))
    with pytest.raises(RetryLater):
        await teams.adapter.send_direct(ANNA.ref, [long, Text(text="Tot slot")], parts=parts)
    assert sorted(parts.sent) == [0, 1]
    await teams.adapter.send_direct(ANNA.ref, [long, Text(text="Tot slot")], parts=parts)
    posted = teams.fake.posts(PERSONAL)[before:]
    assert len(posted) == len(parts.sent) >= 5  # each part once, none twice
    assert [p.text.split(":", 1)[0] for p in posted[:4]] == [f"Alinea {n}" for n in range(4)]
    assert posted[-1].text == "Tot slot"
    assert not any(too_big(p.activity) for p in posted)
    assert "".join(p.text for p in posted[:-1]).replace(" ", "").replace("\n", "") == \
        long.text.replace(" ", "").replace("\n", "")


async def test_replies_go_in_the_thread_of_the_first_post_in_a_team_channel(
        teams: Teams) -> None:
    await teams.say(BOB, "hallo", CHANNEL, "channel")
    replies = [Text(text="Samenvatting van oktober"),
               Text(text="Agenda", thread_of=FIRST), Text(text="Vragen?", thread_of=FIRST)]
    parts = Parts(key=8)
    teams.fake.after[CHANNEL] = (1, (503, {}, {}))  # the first post is out, then a hiccup
    with pytest.raises(RetryLater):
        await teams.adapter.send(CHANNEL, replies, parts=parts)
    await teams.adapter.send(CHANNEL, replies, parts=parts)
    [first] = teams.fake.posts(CHANNEL)
    thread = teams.fake.posts(f"{CHANNEL};messageid={first.id}")
    assert first.text == "Samenvatting van oktober"
    assert [p.text for p in thread] == ["Agenda", "Vragen?"]  # in the thread, after a retry


async def test_a_group_chat_has_no_threads(teams: Teams) -> None:
    group = "19:grp@thread.v2"
    await teams.say(BOB, "hallo", group, "groupChat")
    await teams.adapter.send(group, [Text(text="Een"), Text(text="Twee", thread_of=FIRST)])
    assert [p.text for p in teams.fake.posts(group)] == ["Een", "Twee"]


async def test_an_edit_replaces_the_message_as_one_however_long(teams: Teams) -> None:
    await teams.say(ANNA, "hoi")
    [first] = teams.fake.posts(PERSONAL)[-1:]
    await teams.adapter.send(PERSONAL, [Text(text="Nieuw " * 100, edit_of=first.id)])
    update = teams.fake.sent[-1]
    assert (update.method, update.conversation, update.id) == ("update", PERSONAL, first.id)
    assert update.activity["id"] == first.id and update.text == "Nieuw " * 100
    with pytest.raises(DeliveryError):  # too long to be one message: refused, not cut
        await teams.adapter.send(PERSONAL, [Text(text="lang " * 5000, edit_of=first.id)])
    assert teams.fake.sent[-1] is update
