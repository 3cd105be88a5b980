"""Slack payloads to neutral `Incoming` events: pure functions, no I/O.

People and chats are named `TEAM:ID`: the workspace whose installation received the event,
then the Slack id. One deployment can so serve several workspaces, and a reference always
says whose token reaches that person or channel.
"""

from __future__ import annotations

import re
from typing import Any

from bot.messages import Incoming

PLATFORM = "slack"
NO_TEAM = "-"


def ref(team: str, slack_id: str) -> str:
    return f"{team}:{slack_id}"


def split_ref(reference: str) -> tuple[str | None, str]:
    """`T1:C2` -> ("T1", "C2"); a bare `C2` (bound by hand) -> (None, "C2")."""
    team, _, slack_id = reference.rpartition(":")
    return (team or None), slack_id


_TEAM = re.compile(r"[TE][A-Z0-9]+")
_IDS = {"user": re.compile(r"[UW][A-Z0-9]+"), "channel": re.compile(r"[CGD][A-Z0-9]+")}
_EXAMPLES = {"user": "T0123:U0789", "channel": "T0123:C0456"}
WHERE_IDS = ("both ids show in the address of Slack in a browser, "
             "app.slack.com/client/T0123/C0456 (the team id starts with T); a person's "
             "member id (U...) is under 'Copy member ID' in their profile")


def ref_problem(kind: str, reference: str) -> str | None:
    """Why `reference` is not a Slack `user` or `channel` as achtje names it (`TEAM:ID`),
    or None. Without its team the id reaches nobody: every call needs the team's token."""
    team, _, slack_id = reference.strip().rpartition(":")
    if _TEAM.fullmatch(team) and _IDS[kind].fullmatch(slack_id):
        return None
    return (f"Slack {kind} {reference!r} must be written TEAM:ID, for example "
            f"{_EXAMPLES[kind]}: {WHERE_IDS}")


def is_dm(channel: str) -> bool:
    return channel.startswith("D")


def unescape(text: str) -> str:
    """Slack escapes these three in what people type; the engine gets the text as typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def from_message(body: dict[str, Any], team: str) -> Incoming | None:
    """A message someone wrote to the bot directly, or a line in a channel that mentions
    it (`from_mention`); None for anything else.

    Edits, deletions, joins, bot messages and other messages in channels are not for the
    engine.
    """
    event = body.get("event") or {}
    if event.get("type") == "app_mention":
        return from_mention(body, team)
    if (
        event.get("type") != "message"
        or event.get("channel_type") != "im"
        or event.get("subtype")
        or event.get("bot_id")
        or not event.get("user")
        or not event.get("channel")
    ):
        return None
    text = unescape(event.get("text") or "")
    if not text.strip():
        return None
    return Incoming(
        platform=PLATFORM, user=ref(team, event["user"]), chat=ref(team, event["channel"]),
        direct=True, text=text, event_id=_event_id("event", body.get("event_id")),
        message=event.get("ts"), thread=event.get("thread_ts"), raw=body,
    )


_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(\|[^>]*)?>[\s:,]*")


def from_mention(body: dict[str, Any], team: str) -> Incoming | None:
    """"@achtje help" in a channel: a line everyone there reads, said to the bot by name,
    so a command when it begins with one (the mention is left out); None without a person."""
    event = body.get("event") or {}
    if not event.get("user") or not event.get("channel") or event.get("bot_id"):
        return None
    text = _MENTION.sub("", unescape(event.get("text") or ""), count=1).strip() or "help"
    return Incoming(
        platform=PLATFORM, user=ref(team, event["user"]), chat=ref(team, event["channel"]),
        direct=is_dm(event["channel"]), text=text, visible=True, addressed=True,
        event_id=_event_id("event", body.get("event_id")), message=event.get("ts"),
        thread=event.get("thread_ts"), raw=body,
    )


def from_command(command: dict[str, Any], team: str, chat: str, direct: bool) -> Incoming:
    """`/achtje checkin` as the text `checkin`; a bare `/achtje` asks for help."""
    return Incoming(
        platform=PLATFORM, user=ref(team, command["user_id"]), chat=chat, direct=direct,
        text=unescape(command.get("text") or "").strip() or "help",
        display_name=command.get("user_name"),
        event_id=_event_id("command", command.get("trigger_id")), raw=command,
    )


def pressed_value(body: dict[str, Any]) -> str | None:
    """The value of the button pressed (or menu option chosen) in a block_actions payload."""
    actions = body.get("actions") or []
    if not actions:
        return None
    action = actions[0]
    value = action.get("value") or (action.get("selected_option") or {}).get("value")
    return value if isinstance(value, str) and value else None


def where_pressed(body: dict[str, Any]) -> tuple[str | None, bool]:
    """The Slack channel a button was pressed in, and whether that is a private chat.

    A button on the Home tab has no channel: its answer goes to the person's DM.
    """
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    if container.get("type") == "view" or not channel:
        return None, True
    return channel, is_dm(channel)


def pressed_label(body: dict[str, Any]) -> str | None:
    """What the pressed button (or the chosen menu option) said."""
    actions = body.get("actions") or [{}]
    action = actions[0]
    shown = action.get("text") or (action.get("selected_option") or {}).get("text") or {}
    label = shown.get("text")
    return label if isinstance(label, str) and label else None


def pressed_privately(body: dict[str, Any]) -> bool:
    """Whether the button was on a message only this person sees: one in their DM with the
    bot, or an ephemeral one. Such a message can show what was chosen instead of its
    buttons; a channel's message keeps them for the others."""
    container = body.get("container") or {}
    if container.get("type") != "message":
        return False
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id") or ""
    return bool(container.get("is_ephemeral")) or is_dm(str(channel))


def from_action(
    body: dict[str, Any], value: str, team: str, chat: str, direct: bool
) -> Incoming:
    user = body.get("user") or {}
    message = body.get("message") or {}
    container = body.get("container") or {}  # all Slack says of an ephemeral message
    pressed = container.get("message_ts") or message.get("ts")
    # On a message only this person sees, one button pressed twice (a double click: two
    # payloads, two trigger_ids) is one event, as on Telegram. A channel's buttons are
    # everyone's and may be pressed again on purpose, so there each press counts.
    event_id = (f"action:{container.get('channel_id')}:{pressed}:{user['id']}:{value}"
                if pressed and pressed_privately(body)
                else _event_id("action", body.get("trigger_id")))
    return Incoming(
        platform=PLATFORM, user=ref(team, user["id"]), chat=chat, direct=direct, action=value,
        display_name=user.get("name") or user.get("username"),
        event_id=event_id,
        message=pressed,
        thread=message.get("thread_ts") or container.get("thread_ts"), raw=body,
    )


def from_submission(
    body: dict[str, Any], text: str, team: str, chat: str, direct: bool
) -> Incoming:
    """A typed answer from the answer window, as if it were written in the chat."""
    user = body.get("user") or {}
    view = body.get("view") or {}
    return Incoming(
        platform=PLATFORM, user=ref(team, user["id"]), chat=chat, direct=direct, text=text,
        event_id=_event_id("view", view.get("id")), raw=body,
    )


def _event_id(kind: str, slack_id: object) -> str | None:
    return f"{kind}:{slack_id}" if isinstance(slack_id, str) and slack_id else None
