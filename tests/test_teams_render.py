"""Teams' translate and render: pure functions, activities in, activities out."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from microsoft_agents.activity import Activity

from adapters.teams import DESCRIPTION
from adapters.teams.render import (
    Labels,
    escape,
    render,
    text_message,
    text_messages,
    too_big,
)
from adapters.teams.translate import to_incoming
from bot.messages import FreeText, Image, Mention, Option, Scale, Text, mention_mark
from bot.settings import Settings, SettingsError

LABELS = Labels(send="Versturen", placeholder="Typ hier")
BOT = {"id": "28:app", "name": "achtje"}


def activity(**fields: Any) -> Activity:
    base: dict[str, Any] = {
        "type": "message", "id": "a1", "channelId": "msteams", "serviceUrl": "https://s/",
        "from": {"id": "29:u", "aadObjectId": "aad-u", "name": "Ann"}, "recipient": BOT,
        "conversation": {"id": "a:p", "conversationType": "personal", "tenantId": "t1"}}
    return Activity.model_validate({**base, **fields})


def test_a_channel_mention_is_stripped_and_names_the_channel_not_the_thread() -> None:
    incoming = to_incoming(activity(
        text="<at>achtje</at> koppel ABCDE", conversation={
            "id": "19:c@thread.tacv2;messageid=17", "conversationType": "channel",
            "tenantId": "t1"},
        entities=[{"type": "mention", "text": "<at>achtje</at>", "mentioned": BOT}]))
    assert incoming is not None
    assert (incoming.text, incoming.chat, incoming.user) == (
        "koppel ABCDE", "19:c@thread.tacv2", "t1:aad-u")
    assert not incoming.direct and incoming.addressed and incoming.thread == "17"


def test_a_personal_message_is_direct() -> None:
    incoming = to_incoming(activity(text="checkin", locale="en-GB"))
    assert incoming is not None and incoming.direct and incoming.text == "checkin"
    assert incoming.locale == "en-GB" and incoming.event_id == "a:p/a1"


def test_card_presses_submit_and_execute_carry_the_engine_value() -> None:
    submit = to_incoming(activity(value={"a8": "s:1:2:4", "a8l": "4"}, replyToId="m9"))
    assert submit is not None and submit.action == "s:1:2:4" and submit.message == "m9"
    execute = to_incoming(activity(type="invoke", name="adaptiveCard/action", value={
        "action": {"type": "Action.Execute", "verb": "a8", "data": {"a8": "pause:2"}}}))
    assert execute is not None and execute.action == "pause:2"
    typed = to_incoming(activity(value={"answer": "  meer overleg  "}))
    assert typed is not None and typed.text == "meer overleg" and typed.action is None


def test_what_is_not_for_the_engine_is_ignored() -> None:
    assert to_incoming(activity(type="typing")) is None
    assert to_incoming(activity(text="   ")) is None
    assert to_incoming(activity(type="invoke", name="composeExtension/query")) is None


def test_typed_text_cannot_format_or_mention() -> None:
    [message] = render(Text(text="<at>Bob</at> *vet* [x](http://e)"), LABELS)
    assert message["text"] == "&lt;at&gt;Bob&lt;/at&gt; \\*vet\\* \\[x\\](http://e)"
    assert "entities" not in message


def test_a_mention_links_the_person() -> None:
    message = text_message(f"Hoi {mention_mark(0)}!", [Mention("t1:aad-b", "Bob")])
    assert message["text"] == "Hoi <at>Bob</at>!"
    assert message["entities"] == [{"type": "mention", "text": "<at>Bob</at>",
                                    "mentioned": {"id": "aad-b", "name": "Bob"}}]


def test_a_scale_is_a_card_whose_buttons_carry_the_values() -> None:
    options = tuple(Option(label, f"s:1:1:{value}") for label, value in [
        ("oneens", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("eens", "5"),
        ("weet ik niet", "dk"), ("overslaan", "skip")])
    [message] = render(Scale(prompt="1/6 Wij werken samen", options=options), LABELS)
    content = message["attachments"][0]["content"]
    assert content["type"] == "AdaptiveCard"
    rows = [item["actions"] for item in content["body"] if item["type"] == "ActionSet"]
    assert [[a["title"] for a in row] for row in rows] == [
        ["1", "2", "3", "4", "5"], ["weet ik niet", "overslaan"]]
    assert rows[0][0]["data"] == {"a8": "s:1:1:1", "a8l": "oneens"}
    assert "1 = oneens · 5 = eens" in content["body"][0]["text"]


def test_free_text_has_a_field_and_a_skip_button() -> None:
    [message] = render(FreeText(prompt="Wat helpt?", skip=Option("overslaan", "f:1:2:skip")),
                       LABELS)
    content = message["attachments"][0]["content"]
    assert content["body"][1]["type"] == "Input.Text" and content["body"][1]["id"] == "answer"
    assert [a["title"] for a in content["actions"]] == ["Versturen", "overslaan"]


def test_a_chart_is_a_data_uri_image_in_a_card() -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    [message] = render(Image(png=png, caption="Samenvatting"), LABELS)
    image = message["attachments"][0]["content"]["body"][0]
    assert image["url"] == "data:image/png;base64," + base64.b64encode(png).decode()


def test_size_counts_text_but_not_images() -> None:
    assert not too_big(render(Image(png=b"x" * 500_000, caption="grafiek"), LABELS)[0])
    assert too_big(text_message("a" * 20_000))
    assert not too_big(text_message("a" * 10_000))


def test_a_long_text_is_cut_at_a_paragraph_into_messages_teams_takes() -> None:
    first, second = "Eerste alinea. " * 500, "Tweede alinea, met *sterretjes*. " * 300
    messages = render(Text(text=f"{first}\n\n{second}"), LABELS)
    assert [m["text"] for m in messages] == [escape(first.strip()), escape(second.strip())]
    assert not any(too_big(m) for m in messages)
    huge = render(Text(text="é" * 30_000 + " 🙂" * 8_000), LABELS)  # one long word, emoji
    assert len(huge) >= 3 and not any(too_big(m) for m in huge)
    assert "".join(m["text"] for m in huge).replace(" ", "") == "é" * 30_000 + "🙂" * 8_000


@given(st.lists(st.one_of(st.text(max_size=60), st.sampled_from(["\n", "\n\n", " ", "*"]),
                          st.integers(0, 2)), max_size=60),
       st.integers(min_value=40, max_value=400))
def test_cutting_keeps_every_character_and_mention_in_order(
        pieces: list[str | int], limit: int) -> None:
    people = [Mention(f"t:aad-{n}", f"Persoon {n}") for n in range(3)]
    text = "".join(mention_mark(p) if isinstance(p, int) else p for p in pieces)
    messages = text_messages(text, people, limit)
    whole = text_message(text, people)
    assert "".join("".join(m["text"] for m in messages).split()) == "".join(
        whole["text"].split())
    entities = [e for m in messages for e in m.get("entities", [])]
    assert entities == whole.get("entities", [])
    for message in messages:
        tags = [e["text"] for e in message.get("entities", [])]
        assert message["text"].count("<at>") == len(tags)  # no mention cut in two
        assert message["text"].strip() != ""
        # Within the limit, unless it is a single word or mention too long on its own.
        single = (not tags and not any(c.isspace() for c in message["text"])) or (
            len(tags) == 1 and message["text"] == tags[0])
        assert size(message) <= limit or single


def size(message: dict[str, Any]) -> int:
    """A message's cost as the cutting counts it: its text, each mention once as its
    entity, twice."""
    def units(value: object) -> int:
        return len(json.dumps(value, ensure_ascii=False).encode("utf-16-le")) // 2

    entities = message.get("entities", [])
    return (units(message["text"]) - 2 - sum(units(e["text"]) - 2 for e in entities)
            + sum(2 * units(e) for e in entities))


def test_teams_needs_both_the_app_id_and_its_secret() -> None:
    settings = Settings(ACHTJE_TEAMS_APP_ID="app")
    assert DESCRIPTION.configured(settings)
    with pytest.raises(SettingsError, match="ACHTJE_TEAMS_APP_PASSWORD"):
        DESCRIPTION.build(settings, None, None)  # type: ignore[arg-type]


def test_microsofts_names_for_the_settings_are_understood(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("ACHTJE_TEAMS_APP_ID", "ACHTJE_TEAMS_APP_PASSWORD", "ACHTJE_TEAMS_TENANT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MICROSOFT_APP_ID", "app-1")
    monkeypatch.setenv("MICROSOFT_APP_PASSWORD", "secret-1")
    monkeypatch.setenv("MICROSOFT_APP_TENANTID", "tenant-1")
    settings = Settings()
    assert (settings.teams_app_id, settings.teams_app_password, settings.teams_tenant_id) == (
        "app-1", "secret-1", "tenant-1")
    assert DESCRIPTION.configured(settings)
    monkeypatch.delenv("MICROSOFT_APP_TENANTID")
    monkeypatch.setenv("MICROSOFT_APP_TENANT_ID", "tenant-2")
    monkeypatch.setenv("ACHTJE_TEAMS_APP_ID", "app-ours")  # ours wins when both are set
    settings = Settings()
    assert (settings.teams_app_id, settings.teams_tenant_id) == ("app-ours", "tenant-2")
