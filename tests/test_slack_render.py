"""Block Kit rendering, payload translation and error mapping: pure functions, no network."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack import translate
from adapters.slack.client import SlackUnreachable, delivery_error
from adapters.slack.render import (
    MAX_BLOCKS,
    MAX_SECTION,
    MENU,
    OPEN_ANSWER,
    Labels,
    answer_modal,
    escape,
    modal_answer,
    render,
)
from bot.messages import (
    Choice,
    DeliveryError,
    DeliveryUncertain,
    FreeText,
    Invitation,
    Option,
    RetryLater,
    Scale,
    Text,
)

LABELS = Labels(type_answer="Antwoord typen", pick="Kies...", modal_title="achtje",
                modal_label="Jouw antwoord", modal_hint="Zonder naam", submit="Versturen",
                cancel="Annuleren")


def section_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def test_mrkdwn_is_escaped_so_nobody_is_pinged() -> None:
    [message] = render(Text(text="<!channel> & <@U1> <https://x|klik>"), LABELS)
    assert section_texts(message.blocks) == [
        "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|klik&gt;"]
    assert "<" not in message.text


def test_a_long_text_is_split_into_sections_and_messages_within_limits() -> None:
    line = "Een zin over samenwerken & vertrouwen. " * 20
    text = "\n".join([line] * 700)  # about 550,000 characters
    messages = render(Text(text=text), LABELS)
    assert len(messages) > 1
    for message in messages:
        assert len(message.blocks) <= MAX_BLOCKS
        assert all(len(t) <= MAX_SECTION for t in section_texts(message.blocks))
    joined = "".join("".join(section_texts(m.blocks)) for m in messages)
    assert joined.count("&amp;") == text.count("&")  # no entity was cut in half
    assert "&" not in joined.replace("&amp;", "")


def test_a_text_without_spaces_is_cut_without_breaking_an_entity() -> None:
    text = "x" * (MAX_SECTION - 2) + "&&&&"
    pieces = section_texts(render(Text(text=text), LABELS)[0].blocks)
    assert pieces[0].endswith("x") and pieces[1] == "&amp;" * 4


def test_a_scale_is_seven_buttons_with_unique_action_ids() -> None:
    options = tuple(Option(str(n), f"s:1:ambition_1:{n}") for n in range(1, 6))
    options += (Option("weet ik niet", "s:1:ambition_1:dk"), Option("overslaan", "s:1:x:skip"))
    [message] = render(Scale(prompt="1/3 · Ambitie\nWe willen hetzelfde", options=options),
                       LABELS)
    section, actions = message.blocks
    assert section["text"]["text"] == "1/3 · Ambitie\nWe willen hetzelfde"
    assert [e["value"] for e in actions["elements"]] == [o.value for o in options]
    assert len({e["action_id"] for e in actions["elements"]}) == 7


def test_a_long_choice_becomes_a_menu_and_long_labels_are_shortened() -> None:
    options = tuple(Option(f"Stelling {n} " + "heel lang " * 10, f"change:1:s{n}")
                    for n in range(7))
    [message] = render(Choice(prompt="Welke?", options=options), LABELS)
    [menu] = message.blocks[1]["elements"]
    assert (menu["type"], menu["action_id"]) == ("static_select", MENU)
    assert [o["value"] for o in menu["options"]] == [o.value for o in options]
    assert all(len(o["text"]["text"]) <= 75 for o in menu["options"])


def test_a_short_choice_is_buttons() -> None:
    [message] = render(Choice(prompt="Taal?", options=(Option("Nederlands", "lang:nl"),
                                                        Option("English", "lang:en"))), LABELS)
    assert [e["type"] for e in message.blocks[1]["elements"]] == ["button", "button"]


def test_free_text_offers_the_answer_window_and_the_skip_button() -> None:
    reply = FreeText(prompt="Wat zou helpen?", skip=Option("Overslaan", "f:1:ambition_1:skip"))
    [message] = render(reply, LABELS)
    first, skip = message.blocks[1]["elements"]
    assert (first["action_id"], first["text"]["text"]) == (OPEN_ANSWER, "Antwoord typen")
    assert skip["value"] == "f:1:ambition_1:skip"


def test_an_invitation_carries_its_action() -> None:
    [message] = render(Invitation(text="Ronde 3 staat open", button="Doe mee",
                                  action="cmd:checkin"), LABELS)
    [button] = message.blocks[1]["elements"]
    assert (button["text"]["text"], button["value"]) == ("Doe mee", "cmd:checkin")


def test_the_answer_window_keeps_only_a_reference_and_reads_back_the_text() -> None:
    view = answer_modal(LABELS, "C1")
    assert view["private_metadata"] == "C1"
    block = view["blocks"][0]
    submitted = {"state": {"values": {block["block_id"]: {block["element"]["action_id"]: {
        "type": "plain_text_input", "value": "Meer tijd"}}}}}
    assert modal_answer(submitted) == "Meer tijd"
    assert modal_answer({"state": {"values": {}}}) is None


def test_escape_leaves_plain_text_alone() -> None:
    assert escape("Vmbo De Brug") == "Vmbo De Brug"


def test_references_carry_the_workspace() -> None:
    assert translate.ref("T1", "U2") == "T1:U2"
    assert translate.split_ref("T1:C2") == ("T1", "C2")
    assert translate.split_ref("C2") == (None, "C2")


def test_a_dm_is_translated_with_slacks_escapes_undone() -> None:
    body = {"event_id": "Ev9", "event": {"type": "message", "channel_type": "im",
                                         "channel": "D1", "user": "U1",
                                         "text": "a &lt; b &amp;&amp; c &gt; d"}}
    incoming = translate.from_message(body, "T1")
    assert incoming is not None
    assert (incoming.user, incoming.chat, incoming.direct) == ("T1:U1", "T1:D1", True)
    assert (incoming.text, incoming.event_id) == ("a < b && c > d", "event:Ev9")


def test_a_bare_slash_command_asks_for_help() -> None:
    command = {"user_id": "U1", "text": "  ", "trigger_id": "t1", "user_name": "anna"}
    incoming = translate.from_command(command, "T1", "T1:C1", direct=False)
    assert (incoming.text, incoming.direct, incoming.event_id) == ("help", False, "command:t1")


def _error(status: int, error: str, headers: dict[str, Any] | None = None) -> SlackApiError:
    response = AsyncSlackResponse(client=AsyncWebClient(), http_verb="POST", api_url="x",
                                  req_args={}, data={"ok": False, "error": error},
                                  headers=headers or {}, status_code=status)
    return SlackApiError("failed", response)  # type: ignore[no-untyped-call]


def test_slack_errors_say_what_the_sender_should_do() -> None:
    busy = delivery_error(_error(429, "ratelimited", {"retry-after": "7"}))
    assert isinstance(busy, RetryLater) and busy.retry_after == 7
    for code in ("channel_not_found", "not_in_channel", "is_archived", "user_not_found",
                 "account_inactive", "cannot_dm_bot"):
        gone = delivery_error(_error(200, code))
        assert isinstance(gone, SlackUnreachable) and gone.error == code
    assert isinstance(delivery_error(_error(503, "service_unavailable")), DeliveryUncertain)
    other = delivery_error(_error(200, "invalid_blocks"))
    assert type(other) is DeliveryError


@pytest.mark.parametrize("header", [{}, {"Retry-After": "soon"}])
def test_a_429_without_a_usable_retry_after_waits_a_default(header: dict[str, str]) -> None:
    busy = delivery_error(_error(429, "ratelimited", header))
    assert isinstance(busy, RetryLater) and busy.retry_after == 30


def test_a_menu_choice_and_a_home_tab_button_are_read_like_any_button() -> None:
    body = {"user": {"id": "U1"}, "container": {"type": "view", "view_id": "V1"},
            "actions": [{"action_id": "achtje_menu", "type": "static_select",
                         "selected_option": {"value": "change:1:ambition_1"}}]}
    assert translate.pressed_value(body) == "change:1:ambition_1"
    assert translate.where_pressed(body) == (None, True)
    ephemeral = {"container": {"type": "message", "channel_id": "C1", "is_ephemeral": True},
                 "channel": {"id": "C1"}}
    assert translate.where_pressed(ephemeral) == ("C1", False)


def test_a_press_names_its_message_and_thread_and_whether_only_the_presser_sees_it() -> None:
    in_thread = {"user": {"id": "U1"}, "channel": {"id": "C1"},
                 "container": {"type": "message", "message_ts": "5.2", "channel_id": "C1",
                               "is_ephemeral": False},
                 "message": {"ts": "5.2", "thread_ts": "5.1", "blocks": []},
                 "actions": [{"type": "button", "value": "pv:1:2",
                              "text": {"type": "plain_text", "text": "Spraakverwarring"}}]}
    pressed = translate.from_action(in_thread, "pv:1:2", "T1", "T1:C1", direct=False)
    assert (pressed.message, pressed.thread) == ("5.2", "5.1")
    assert translate.pressed_label(in_thread) == "Spraakverwarring"
    assert not translate.pressed_privately(in_thread)  # a channel's message: keep buttons
    ephemeral = {**in_thread, "message": None,
                 "container": {"type": "message", "message_ts": "6.1", "channel_id": "C1",
                               "is_ephemeral": True, "thread_ts": "5.1"}}
    pressed = translate.from_action(ephemeral, "pv:1:2", "T1", "T1:C1", direct=False)
    assert (pressed.message, pressed.thread) == ("6.1", "5.1")
    assert translate.pressed_privately(ephemeral)
    in_dm = {**in_thread, "container": {"type": "message", "message_ts": "7.1",
                                        "channel_id": "D1"}}
    assert translate.pressed_privately(in_dm)
    on_home = {**in_thread, "container": {"type": "view", "view_id": "V1"}}
    assert not translate.pressed_privately(on_home)
    menu = {**in_thread, "actions": [{"type": "static_select", "selected_option": {
        "value": "pause:2", "text": {"type": "plain_text", "text": "2 weken"}}}]}
    assert translate.pressed_label(menu) == "2 weken"
    said = translate.from_message({"event_id": "Ev1", "event": {
        "type": "message", "channel_type": "im", "channel": "D1", "user": "U1",
        "text": "checkin", "ts": "8.2", "thread_ts": "8.1"}}, "T1")
    assert said is not None and (said.message, said.thread) == ("8.2", "8.1")
