"""The Teams adapter end to end: the real adapter on the shared HTTP server, against fake
Bot Framework issuer, token endpoint and Bot Connector over real HTTP, on the real engine
and store."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.platforms import limits
from bot.content import Content
from bot.engine import Engine
from bot.messages import Parts, RetryLater, Text, Unreachable
from bot.outbox import Envelope, enqueue
from bot.privacy.data import erase_member, export_member
from bot.store import binding
from bot.store import teams as teams_store
from bot.store.models import Answer, ChannelBinding, Member, Partnership
from bot.store.schedule import OutboxMessage
from scheduler.ratelimit import RateLimiter
from scheduler.sender import Sender
from tests.conftest import Clock
from tests.teams_fakes import ANNA, BOB, OTHER_KEY, SECRET, TENANT, Teams, running, token


@pytest.fixture
async def teams(engine: Engine, partnership: Partnership) -> AsyncIterator[Teams]:
    async for started in running(engine):
        yield started


async def members(sessions: async_sessionmaker[Any]) -> list[Member]:
    async with sessions() as session:
        return list(await session.scalars(select(Member).order_by(Member.id)))


async def test_a_request_without_a_valid_token_is_refused_and_has_no_effect(
    teams: Teams, sessions: async_sessionmaker[Any]
) -> None:
    url = teams.service_url
    refused = {
        "no token": "",
        "forged": f"Bearer {token(key=OTHER_KEY, service_url=url)}",
        "expired": f"Bearer {token(expires_in=-3600, service_url=url)}",
        "wrong audience": f"Bearer {token(aud='someone-else', service_url=url)}",
        "wrong issuer": f"Bearer {token(iss='https://evil.example', service_url=url)}",
        "other serviceUrl": f"Bearer {token(service_url='https://elsewhere.example/')}",
        "garbage": "Bearer not.a.jwt",
        "other scheme": f"Basic {token(service_url=url)}",
    }
    for case, header in refused.items():
        activity = teams.activity(ANNA, "a:personal-29:anna", text="hoi")
        assert await teams.post(activity, header=header) == 401, case
    assert teams.fake.sent == [] and teams.fake.token_calls == 0
    assert await members(sessions) == []
    # The same request with a good token does get through.
    assert await teams.post(teams.activity(ANNA, "a:personal-29:anna", text="hoi")) == 200
    assert teams.fake.sent != []


async def test_malformed_payloads_are_refused_without_effect(teams: Teams) -> None:
    async with teams.http.post(f"{teams.web.url}/api/messages", data=b"{not json",
                               headers={"Authorization": f"Bearer {token()}"}) as response:
        assert response.status == 400
        assert "Traceback" not in await response.text()
    assert await teams.post({"type": 5}) == 400
    assert teams.fake.sent == []


async def test_a_whole_checkin_in_a_personal_chat_on_cards(
    teams: Teams, sessions: async_sessionmaker[Any], partnership: Partnership,
    content: Content
) -> None:
    chat = "a:personal-29:anna"
    sent = await teams.say(ANNA, "hoi")
    assert "Bij welke school" in sent[-1].text
    for label in ("Vmbo De Brug", "Docenten", "Nederlands"):
        pressed = await teams.press(ANNA, label)
        update = pressed[0]  # the pressed card shows the choice, without buttons
        assert update.method == "update" and update.conversation == chat
        assert update.text == content.text("chosen", "nl", choice=label)
        assert update.buttons() == {}
    await teams.say(ANNA, "checkin")
    scale = teams.fake.posts(chat)[-1]
    assert scale.text.startswith("1/6")
    assert list(scale.buttons())[:5] == ["1", "2", "3", "4", "5"]
    for label in ("4", "5", "weet ik niet", "3", "3"):
        await teams.press(ANNA, label)
    last = await teams.press(ANNA, "3")
    assert last[-1].text == content.text("checkin_done", "nl")
    async with sessions() as session:
        stored = list(await session.scalars(select(Answer).order_by(Answer.id)))
    [anna] = await members(sessions)
    assert anna.user_ref == f"{TENANT}:aad-anna" and anna.partnership_id == partnership.id
    assert [(a.status, a.score) for a in stored] == [
        ("scored", 4), ("scored", 5), ("dont_know", None), *[("scored", 3)] * 3]
    assert teams.fake.token_calls == 1  # the bot's token is cached


async def test_the_same_activity_twice_is_handled_once(teams: Teams) -> None:
    activity = teams.activity(ANNA, "a:personal-29:anna", text="hoi")
    assert await teams.post(activity) == 200
    first = len(teams.fake.sent)
    assert await teams.post(activity) == 200
    assert len(teams.fake.sent) == first > 0


async def test_koppel_with_an_at_mention_binds_a_channel(
    teams: Teams, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    async with sessions() as session, session.begin():
        code = await binding.new_code(session, partnership.id, clock.now, timedelta(hours=48))
    channel = "19:abc@thread.tacv2"
    mention = {"type": "mention", "text": "<at>achtje</at>",
               "mentioned": {"id": "28:00000000-aaaa-bbbb-cccc-000000000001",
                             "name": "achtje"}}
    sent = await teams.say(BOB, f"<at>achtje</at> koppel {code}",
                           f"{channel};messageid=1700", "channel", entities=[mention])
    assert sent and sent[0].conversation == f"{channel};messageid=1700"  # in the thread
    assert "Demo Zorg" in sent[0].text
    async with sessions() as session:
        bound = await session.scalar(select(ChannelBinding.partnership_id).where(
            ChannelBinding.platform == "teams", ChannelBinding.channel_ref == channel))
    assert bound == partnership.id


async def test_a_scheduled_send_reaches_a_stored_reference(teams: Teams) -> None:
    await teams.say(ANNA, "hoi")  # Anna's personal chat is now known
    parts = Parts(key=1)
    await teams.adapter.send_direct(ANNA.ref, [Text(text="Herinnering"), Text(text="Twee")],
                                    parts=parts)
    posted = teams.fake.posts("a:personal-29:anna")[-2:]
    assert [p.text for p in posted] == ["Herinnering", "Twee"]
    assert parts.sent == {0: f"a:personal-29:anna {posted[0].id}",
                          1: f"a:personal-29:anna {posted[1].id}"}
    # Sent again (the outbox row came back): the parts already out are skipped.
    await teams.adapter.send_direct(ANNA.ref, [Text(text="Herinnering"), Text(text="Twee")],
                                    parts=parts)
    assert teams.fake.posts("a:personal-29:anna")[-2:] == posted


async def test_a_person_met_in_a_channel_gets_a_personal_chat_opened(teams: Teams) -> None:
    channel = "19:grp@thread.v2"
    await teams.say(BOB, "hallo", channel, "groupChat")
    await teams.adapter.send_direct(BOB.ref, [Text(text="Alleen voor jou")])
    [created] = teams.fake.created
    assert created["members"] == [{"id": BOB.member}] and created["tenantId"] == TENANT
    assert [p.text for p in teams.fake.posts("a:personal-29:bob")] == ["Alleen voor jou"]


async def test_throttling_is_retry_later_with_teams_retry_after(teams: Teams) -> None:
    await teams.say(ANNA, "hoi")
    teams.fake.fail["a:personal-29:anna"] = [
        (429, {"Retry-After": "7"}, {"error": {"code": "Throttled"}})]
    with pytest.raises(RetryLater) as caught:
        await teams.adapter.send_direct(ANNA.ref, [Text(text="x")], parts=Parts(key=2))
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize(("status", "code"), [(403, "BotNotInConversationRoster"),
                                              (404, "ConversationNotFound")])
async def test_a_removed_app_makes_the_person_unreachable(
    teams: Teams, sessions: async_sessionmaker[Any], status: int, code: str
) -> None:
    await teams.say(ANNA, "hoi")
    for label in ("Vmbo De Brug", "Docenten", "Nederlands"):
        await teams.press(ANNA, label)
    teams.fake.fail["a:personal-29:anna"] = [(status, {}, {"error": {"code": code}})]
    with pytest.raises(Unreachable):
        await teams.adapter.send_direct(ANNA.ref, [Text(text="x")], parts=Parts(key=3))
    [anna] = await members(sessions)
    assert anna.unreachable_at is not None


async def test_a_chat_never_seen_is_unreachable(teams: Teams) -> None:
    with pytest.raises(Unreachable):
        await teams.adapter.send("19:unknown@thread.v2", [Text(text="x")])


async def test_an_installation_stores_the_reference_and_removal_forgets_it(
    teams: Teams
) -> None:
    group = "19:grp@thread.v2"
    added = teams.activity(BOB, group, "groupChat", type="installationUpdate", action="add")
    assert await teams.post(added) == 200
    assert teams.fake.sent == []  # nothing said on installation
    await teams.adapter.send(group, [Text(text="Nieuwe ronde")])
    assert [p.text for p in teams.fake.posts(group)] == ["Nieuwe ronde"]
    removed = teams.activity(BOB, group, "groupChat", type="installationUpdate",
                             action="remove")
    assert await teams.post(removed) == 200
    with pytest.raises(Unreachable):
        await teams.adapter.send(group, [Text(text="weg")])


async def test_private_replies_in_a_group_go_to_the_personal_chat(
    teams: Teams, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    group = "19:grp@thread.v2"
    async with sessions() as session, session.begin():
        session.add(ChannelBinding(partnership_id=partnership.id, platform="teams",
                                   channel_ref=group, created_at=clock.now))
    mention = {"type": "mention", "text": "<at>achtje</at>", "mentioned": {
        "id": "28:00000000-aaaa-bbbb-cccc-000000000001", "name": "achtje"}}
    sent = await teams.say(BOB, "<at>achtje</at> checkin", group, "groupChat",
                           entities=[mention])
    assert sent and {s.conversation for s in sent} == {"a:personal-29:bob"}
    assert teams.fake.posts(group) == []
    [created] = teams.fake.created
    assert created["members"] == [{"id": BOB.member}]


async def test_the_sender_delivers_outbox_rows_and_waits_out_a_429(
    teams: Teams, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    group = "19:grp@thread.v2"
    await teams.say(ANNA, "hoi")
    await teams.say(BOB, "hallo", group, "groupChat")
    now = clock.now

    def envelope(target: str, direct: bool, text: str) -> Envelope:
        return Envelope(kind="reminder", partnership_id=partnership.id, recipient=target,
                        local_date=now.date(), platform="teams", target=target,
                        direct=direct, replies=(Text(text=text),), due_at=now,
                        expires_at=None)

    async with sessions() as session, session.begin():
        await enqueue(session, [envelope(ANNA.ref, True, "Voor Anna"),
                                envelope(group, False, "Voor de groep")], now)
    teams.fake.fail["a:personal-29:anna"] = [(429, {"Retry-After": "3"}, {})]

    class Time:
        current: datetime = now

        def __call__(self) -> datetime:
            return self.current

        def seconds(self) -> float:
            return self.current.timestamp()

        async def sleep(self, seconds: float) -> None:
            self.current += timedelta(seconds=seconds)
            await asyncio.sleep(0)

    time = Time()
    sender = Sender(sessions, {"teams": teams.adapter}, clock=time,
                    limiter=RateLimiter(time.seconds, limits()))
    await sender.drain(time.sleep)
    assert [p.text for p in teams.fake.posts("a:personal-29:anna")][-1] == "Voor Anna"
    assert [p.text for p in teams.fake.posts(group)] == ["Voor de groep"]
    async with sessions() as session:
        rows = {r.target: r for r in await session.scalars(select(OutboxMessage))}
    assert rows[ANNA.ref].status == rows[group].status == "sent"
    assert rows[ANNA.ref].sent_at == now + timedelta(seconds=3)


async def test_a_double_press_counts_once_and_action_execute_redraws_the_card(
    teams: Teams, sessions: async_sessionmaker[Any], content: Content
) -> None:
    chat = "a:personal-29:anna"
    await teams.say(ANNA, "hoi")
    for label in ("Vmbo De Brug", "Docenten", "Nederlands"):
        await teams.press(ANNA, label)
    await teams.say(ANNA, "checkin")
    scale = teams.fake.posts(chat)[-1]
    data = scale.buttons()["4"]
    execute = teams.activity(ANNA, chat, type="invoke", name="adaptiveCard/action",
                             value={"action": {"type": "Action.Execute", "data": data}},
                             replyToId=scale.id)
    status, body = await teams.exchange(execute)
    assert status == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    assert body["value"]["body"][0]["text"] == content.text("chosen", "nl",
                                                            choice=data["a8l"])
    before = len(teams.fake.posts(chat))
    again = teams.activity(ANNA, chat, value=data, replyToId=scale.id)  # a stale copy
    assert await teams.post(again) == 200
    assert len(teams.fake.posts(chat)) == before  # nothing new asked
    async with sessions() as session:
        stored = list(await session.scalars(select(Answer)))
    assert [(a.status, a.score) for a in stored] == [("scored", 4)]


async def test_export_shows_and_erasure_forgets_how_to_reach_a_member_on_teams(
    teams: Teams, sessions: async_sessionmaker[Any]
) -> None:
    group = "19:grp@thread.v2"
    await teams.say(ANNA, "hallo", group, "groupChat")
    await teams.say(ANNA, "hoi")
    for label in ("Vmbo De Brug", "Docenten", "Nederlands"):
        await teams.press(ANNA, label)
    [anna] = await members(sessions)
    async with sessions() as session:
        exported = await export_member(session, anna.id)
    assert exported is not None
    rows = {row["key"]: row for row in exported["tables"]["teams_reference"]}
    assert set(rows) == {ANNA.ref, "a:personal-29:anna"}  # not the group chat's
    assert rows[ANNA.ref]["member_id"] == ANNA.member
    assert rows[ANNA.ref]["conversation_id"] == "a:personal-29:anna"
    async with sessions() as session, session.begin():
        report = await erase_member(session, anna.id)
    assert report is not None and report.deleted["teams_reference"] == 2
    async with sessions() as session:
        assert await teams_store.reference(session, ANNA.ref) is None
        assert await teams_store.reference(session, "a:personal-29:anna") is None
        assert await teams_store.reference(session, group) is not None
    with pytest.raises(Unreachable):
        await teams.adapter.send_direct(ANNA.ref, [Text(text="x")])


async def test_no_token_or_secret_reaches_the_log(
    teams: Teams, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    forged = token(key=OTHER_KEY, service_url=teams.service_url)
    activity = teams.activity(ANNA, "a:personal-29:anna", text="hoi")
    assert await teams.post(activity, header=f"Bearer {forged}") == 401
    await teams.say(ANNA, "hoi")  # the bot fetches its own token
    assert teams.fake.token_calls == 1
    logged = caplog.text
    assert "refused a request" in logged
    assert forged not in logged and SECRET not in logged and "bot-token" not in logged


async def test_the_bot_removed_from_a_team_forgets_the_channel(teams: Teams) -> None:
    channel = "19:general@thread.tacv2"
    await teams.say(BOB, "hallo", channel, "channel")
    await teams.adapter.send(channel, [Text(text="Nieuwe ronde")])
    removed = teams.activity(BOB, channel, "channel", type="conversationUpdate",
                             membersRemoved=[{"id": "28:00000000-aaaa-bbbb-cccc-000000000001"}])
    assert await teams.post(removed) == 200
    with pytest.raises(Unreachable):
        await teams.adapter.send(channel, [Text(text="weg")])
