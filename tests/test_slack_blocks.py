"""Block Kit's limits hold for everything achtje shows on Slack: the monthly summary in a
channel thread, the instruments and a check-in in a channel, and any text with mentions.
The fake Slack refuses what Slack would (`invalid_blocks`), and every rig checks at the
end that nothing was refused; these tests make sure the heavy cases are among them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.slack.render import labels_for, render
from bot.content import Content
from bot.engine import Engine
from bot.messages import FIRST, Choice, Mention, Option, Reply, Scale, Text, mention_mark
from bot.store.models import ChannelBinding, Member, Partnership
from bot.summary import summary_replies
from tests.conftest import Clock
from tests.slack_fakes import SlackRig, buttons_of, invalid_blocks, slack_rig
from tests.summary_fakes import NOV, OCT, Partners

MONTH = NOV.replace(day=1)


@pytest.fixture
async def slack(engine: Engine, partnership: Partnership, sessions: async_sessionmaker[Any],
                clock: Clock) -> AsyncIterator[SlackRig]:
    async with sessions() as session, session.begin():
        session.add(ChannelBinding(partnership_id=partnership.id, platform="slack",
                                   channel_ref="T1:C1", created_at=clock.now))
        for n, role in enumerate(["leader", "member", "member", "member"], start=1):
            session.add(Member(partnership_id=partnership.id, platform="slack",
                               user_ref=f"T1:U{n}", display_name=f"Persoon {n}",
                               school_id=partnership.schools[n % 2].id, level="teachers",
                               role=role, language="nl", onboarded_at=clock.now,
                               created_at=clock.now))
    async with slack_rig(engine) as rig:
        yield rig


async def test_a_full_summary_fits_in_a_channel_thread(
    slack: SlackRig, sessions: async_sessionmaker[Any], content: Content
) -> None:
    partners = await Partners.create(sessions)
    people = await partners.members("vmbo", "teachers", 6) + await partners.members(
        "mbo", "management", 6)
    statements = ["ambition_1", "interests_1", "relations_1", "organisation_1", "process_1",
                  "content_1"]
    for day in (OCT, NOV):
        round_id = await partners.round(day, statements)
        for statement in statements:
            await partners.answer(round_id, statement, people, [2, 3, 4, 5, 1, "dk"] * 2,
                                  [f"Open antwoord <!channel> & {n} " + "lang " * 70
                                   for n in range(12)])
    async with sessions() as session:
        summary = await summary_replies(session, content, partners.partnership, MONTH, "nl")
    head, *rest = summary
    await slack.adapter.send("T1:C1", [head, *(replace(r, thread_of=FIRST) for r in rest)])
    posts = slack.fake.of("chat.postMessage")
    assert posts and not any(call.failed for call in slack.fake.calls)
    assert {call.args.get("thread_ts") for call in posts[1:]} == {posts[0].result["ts"]}
    assert slack.fake.of("files.completeUploadExternal")[0].args["thread_ts"] == \
        posts[0].result["ts"]
    assert "<!channel>" not in str([call.args for call in posts])


async def test_instruments_and_a_check_in_in_a_channel_keep_the_limits(
    slack: SlackRig
) -> None:
    await slack.command("instrumenten", user="U1")
    await slack.command("valkuilen peiling", user="U1")
    [poll] = [c for c in slack.fake.of("chat.postMessage") if buttons_of(c)]
    for user in ("U2", "U3", "U4"):
        await slack.press(buttons_of(poll)[list(buttons_of(poll))[1]], user=user,
                          channel="C1")
    await slack.command("valkuilen uitslag", user="U1")
    await slack.command("reflectie start", user="U1")
    await slack.command("valkuilen", user="U2")
    await slack.command("checkin", user="U2")
    for _ in range(6):  # three topics, each its anchor and one other statement
        question = slack.fake.of("chat.postEphemeral")[-1]
        await slack.press(list(buttons_of(question).values())[3], user="U2", channel="C1")
    assert len(slack.fake.posted()) > 10
    assert not any(call.failed for call in slack.fake.calls)
    shown = slack.fake.texts()
    assert any(text.startswith("Uitslag van de peiling (3 stemmen)") for text in shown)
    assert shown[-1].startswith("Dank je wel, je check-in is klaar")
    # The channel's poll kept its buttons; the six answered check-in questions did not.
    assert buttons_of(poll) and slack.fake.of("chat.update") == []
    assert len(slack.fake.of("respond")) == 6


names = st.text(st.characters(blacklist_categories=("Cs",)), max_size=120)
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=9000)


@settings(max_examples=60, deadline=None)
@given(text=texts, people=st.lists(names, max_size=60), marks=st.lists(
    st.integers(0, 70), max_size=80))
def test_any_text_with_mentions_keeps_block_kit_limits(
    content: Content, text: str, people: list[str], marks: list[int]
) -> None:
    mentions = tuple(Mention(f"T1:U{n:09d}", name) for n, name in enumerate(people))
    marked = text + " ".join(mention_mark(m) for m in marks)
    for message in render(Text(text=marked, mentions=mentions), labels_for(content, "nl")):
        assert invalid_blocks(message.blocks) is None


@pytest.mark.parametrize("count", [1, 5, 6, 100, 101, 130])
@pytest.mark.parametrize("value_length", [10, 150, 151, 2000, 2001])
@pytest.mark.parametrize("label_length", [0, 75, 76, 400])
def test_any_question_keeps_block_kit_limits(
    content: Content, count: int, value_length: int, label_length: int
) -> None:
    options = tuple(Option("ë" * label_length, f"{n}:".ljust(value_length, "v"))
                    for n in range(count))
    prompt = "Vraag <!channel> " * 300
    questions: list[tuple[Reply, int]] = [
        (Choice(prompt=prompt, options=options), 2000 if count <= 5 else 150),
        (Scale(prompt=prompt, options=options[:7]), 2000)]
    for reply, longest_value in questions:
        messages = render(reply, labels_for(content, "en"))
        for message in messages:
            assert invalid_blocks(message.blocks) is None
        # The buttons (or menu) come last; values Slack would refuse are left out.
        last = messages[-1].blocks[-1]["type"]
        assert (last == "actions") == (value_length <= longest_value)
