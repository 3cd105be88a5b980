"""Teams activities to neutral `Incoming` events: pure functions, no I/O.

People are `TENANT:AADOBJECTID` inside achtje (like `TEAM:USER` on Slack): the Entra ID
object id is stable across chats and apps; a guest without one falls back to the
per-app id Teams gives them ("29:..."). A chat is the conversation id, a channel's without
the thread suffix (";messageid=..."), so a channel is bound once, whatever thread.

A button press comes as an Adaptive Card action: Action.Submit sends a message whose
`value` holds the button's data, Action.Execute an invoke `adaptiveCard/action` whose
`value.action.data` holds it. Either way the data carries `{"a8": "<engine value>"}`.
"""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import Activity

from bot.messages import Incoming

PLATFORM = "teams"
DATA_KEY = "a8"
LABEL_KEY = "a8l"  # the pressed button's label, to show the choice afterwards
EXECUTE = "adaptiveCard/action"


def user_ref(activity: Activity) -> str | None:
    person = activity.from_property
    if person is None or not person.id:
        return None
    tenant = tenant_of(activity) or "-"
    return f"{tenant}:{person.aad_object_id or person.id}"


def tenant_of(activity: Activity) -> str | None:
    conversation = activity.conversation
    if conversation is not None and conversation.tenant_id:
        return str(conversation.tenant_id)
    data = activity.channel_data
    tenant = data.get("tenant") if isinstance(data, dict) else None
    return str(tenant["id"]) if isinstance(tenant, dict) and tenant.get("id") else None


def chat_ref(activity: Activity) -> str | None:
    conversation = activity.conversation
    if conversation is None or not conversation.id:
        return None
    return str(conversation.id).split(";messageid=", 1)[0]


def is_channel(chat: str) -> bool:
    """Whether a conversation id is a team channel's ("19:...@thread.tacv2", or
    "@thread.skype" for older teams); a group chat's ends "@thread.v2" and has no threads."""
    base = chat.split(";", 1)[0]
    return base.endswith(("@thread.tacv2", "@thread.skype"))


def kind_of(activity: Activity) -> str:
    """"personal", "groupChat" or "channel"."""
    conversation = activity.conversation
    return str(conversation.conversation_type or "personal") if conversation else "personal"


def pressed(activity: Activity) -> str | None:
    """The engine value of a pressed card button, if this activity is a press."""
    value = activity.value
    if activity.type == "invoke" and activity.name == EXECUTE and isinstance(value, dict):
        action = value.get("action")
        value = action.get("data") if isinstance(action, dict) else None
    if not isinstance(value, dict):
        return None
    found = value.get(DATA_KEY)
    return found if isinstance(found, str) and found else None


def typed_in_card(activity: Activity) -> str | None:
    """The text typed into a FreeText card's field, sent with its button."""
    value = activity.value
    if activity.type == "invoke" and isinstance(value, dict):
        action = value.get("action")
        value = action.get("data") if isinstance(action, dict) else None
    found = value.get("answer") if isinstance(value, dict) else None
    return found.strip() if isinstance(found, str) and found.strip() else None


def to_incoming(activity: Activity) -> Incoming | None:
    """A message or card press for the engine; None for anything else (typing, events,
    messages from bots, empty text)."""
    if activity.type not in ("message", "invoke"):
        return None
    if activity.type == "invoke" and activity.name != EXECUTE:
        return None
    user, chat = user_ref(activity), chat_ref(activity)
    if user is None or chat is None:
        return None
    if activity.from_property is not None and str(activity.from_property.role or "") == "bot":
        return None
    direct = kind_of(activity) == "personal"
    action = pressed(activity)
    text: str | None = None
    if action is None:
        text = typed_in_card(activity)
        if text is None:
            copy = activity.model_copy(deep=True)
            copy.remove_recipient_mention()
            text = (copy.text or "").strip() or None
        if text is None:
            return None
    addressed = not direct and action is None and _mentions_bot(activity)
    person = activity.from_property
    _, _, thread = str(activity.conversation.id if activity.conversation else "").partition(
        ";messageid=")
    return Incoming(
        platform=PLATFORM, user=user, chat=chat, direct=direct, text=text, action=action,
        locale=activity.locale, display_name=person.name if person else None,
        event_id=f"{chat}/{activity.id}" if activity.id else None,
        message=(activity.reply_to_id or activity.id) if action is not None else activity.id,
        thread=thread or None, visible=not direct and action is None, addressed=addressed,
        raw=activity,
    )


def _mentions_bot(activity: Activity) -> bool:
    bot = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        data: Any = entity.model_dump(by_alias=True) if hasattr(entity, "model_dump") else entity
        mentioned = data.get("mentioned") if isinstance(data, dict) else None
        if data.get("type") == "mention" and isinstance(mentioned, dict) \
                and mentioned.get("id") == bot:
            return True
    return False



def pressed_label(activity: Activity) -> str | None:
    value = activity.value
    if activity.type == "invoke" and isinstance(value, dict):
        action = value.get("action")
        value = action.get("data") if isinstance(action, dict) else None
    found = value.get(LABEL_KEY) if isinstance(value, dict) else None
    return found if isinstance(found, str) else None
