"""Posting rendered replies through the Slack Web API, in order, threaded where asked.

Private replies in a channel are ephemeral messages to the one person; when Slack will not
show an ephemeral there (the bot is not in the channel, for instance) they go to the
person's DM instead, never to the channel. Images cannot be ephemeral, so a private image
always goes to the DM. A reply with `thread_of=FIRST` goes in the thread of the first
message this delivery posted in the same channel.

Only achtje's sender decides to post again: the Web API client never repeats a post on
its own (adapters/slack/client.py). A scheduled send (`Parts`) tags every post with its
outbox id and part number in the message `metadata`, so when Slack's answer is lost the
next attempt looks in the conversation's history (`conversations.history` / `.replies` with
`include_all_metadata`) and posts only the parts that are not there.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import Posts, uncertain_after_part
from adapters.slack.client import NO_POST_HERE, SlackUnreachable, call
from adapters.slack.render import Labels, Message, escape, pressed, render
from bot.messages import (
    FIRST,
    DeliveryError,
    Image,
    Incoming,
    Parts,
    Reply,
)

logger = logging.getLogger(__name__)

IMAGE_NAME = "achtje.png"
# Message metadata of a scheduled post: {"outbox_id": ..., "part": ...}.
OUTBOX_EVENT = "achtje_outbox"
LOOKUP_LIMIT = 200  # recent messages searched for a post whose answer was lost


@dataclass(frozen=True)
class Target:
    """Where replies go: a Slack channel (None: the person's DM) and who they are for."""

    channel: str | None
    user: str | None
    direct: bool


async def slack_profile(client: AsyncWebClient, user: str) -> dict[str, Any] | None:
    """Someone's Slack profile with their locale; None (logged) if Slack will not say."""
    try:
        response = await call(client.users_info(user=user, include_locale=True))
    except DeliveryError as exc:
        logger.info("no Slack profile for %s: %s", user, exc)
        return None
    found = response.get("user")
    return found if isinstance(found, dict) else None


async def introduce(client: AsyncWebClient, incoming: Incoming, user: str | None
                    ) -> Incoming:
    """For someone new: their Slack locale and name, so the welcome is in their language."""
    if user is None:
        return incoming
    profile = await slack_profile(client, user)
    if profile is None:
        return incoming
    name = (profile.get("profile") or {}).get("display_name") or profile.get("real_name")
    return replace(incoming, locale=profile.get("locale") or incoming.locale,
                   display_name=name or incoming.display_name)


async def profile_locale(client: AsyncWebClient, user: str) -> str | None:
    """Someone's Slack locale, if Slack says."""
    locale = (await slack_profile(client, user) or {}).get("locale")
    return locale if isinstance(locale, str) else None


async def open_dm(client: AsyncWebClient, user: str) -> str:
    """The id of the bot's DM with this person (Slack opens it if needed)."""
    response = await call(client.conversations_open(users=user))
    channel = response.get("channel") or {}
    return str(channel["id"])


async def deliver(
    client: AsyncWebClient, target: Target, replies: Sequence[Reply], labels: Labels,
    parts: Parts | None = None,
) -> None:
    """Post every reply in order; raise a `DeliveryError` at the first that Slack refuses.

    Without `parts`, once a message went out any failure but `Unreachable` is
    `DeliveryUncertain`: sending them all again would repeat what arrived. With `parts` (a
    scheduled send) every post is numbered and tagged, the parts already out are skipped,
    and a failure is raised as it is: the sender knows from `parts` what went out.

    When achtje may not post in a channel (it was never invited, for instance) and the
    replies answer someone, they reach that person in their DM instead.
    """
    threads = Threads(parts)
    with uncertain_after_part(threads):
        await _deliver(client, target, replies, labels, threads)


async def _deliver(client: AsyncWebClient, target: Target, replies: Sequence[Reply],
                   labels: Labels, threads: Threads) -> None:
    direct = target.direct or target.channel is None
    dm = target.channel if target.direct else None
    out = threads.parts.ref(min(threads.parts.sent)) if threads.parts and threads.parts.sent \
        else None
    if direct and dm is None and out is not None:
        dm = out[0]  # where the parts already out went: the DM

    async def dm_channel(real: bool = False) -> str:
        """Where a post to the person goes: their DM's id once known. Before that, for a
        scheduled send, their user id, which chat.postMessage takes (Slack posts in the
        app's DM with them and answers with the DM's id), so only a call that needs the
        DM's id (an upload, an edit, a look-up) opens it first (conversations.open)."""
        nonlocal dm
        if dm is None:
            if target.user is None:
                raise DeliveryError("no channel and no person to send to")
            if not real and threads.parts is not None:
                return target.user
            dm = await open_dm(client, target.user)
        return dm

    async def to_dm(reply: Reply) -> None:
        nonlocal dm
        real = isinstance(reply, Image) or reply.edit_of is not None
        where = await _post(client, await dm_channel(real), reply, labels, threads)
        if dm is None and where != target.user:
            dm = where

    if threads.parts is not None and threads.parts.doubt:
        await look_up(client, await dm_channel(True) if direct else str(target.channel),
                      threads.parts)
    for reply in replies:
        if target.direct or target.channel is None:
            await to_dm(reply)
            continue
        if reply.private and target.user is None:
            logger.error("a private %s for nobody in particular was not posted to %s",
                         type(reply).__name__, target.channel)
            continue
        if reply.private and isinstance(reply, Image):
            await to_dm(reply)
            continue
        try:
            if reply.private:
                assert target.user is not None
                await _ephemeral(client, target.channel, target.user, reply, labels, threads)
            else:
                await _post(client, target.channel, reply, labels, threads)
            continue
        except SlackUnreachable as exc:
            if target.user is None or exc.error not in NO_POST_HERE:
                raise
            logger.warning("achtje cannot post in Slack channel %s (%s; invite it there); "
                           "answering %s in the DM", target.channel, exc.error, target.user)
        await to_dm(reply)


async def look_up(client: AsyncWebClient, channel: str, parts: Parts) -> None:
    """Add to `parts` the posts of its outbox row that are in `channel` already (found by
    their metadata among the recent messages and the threads of the row's own posts)."""
    history = await call(client.conversations_history(
        channel=channel, include_all_metadata=True, limit=LOOKUP_LIMIT))
    for message in history.get("messages") or []:
        if _part_of(message, parts) is None:
            continue
        _found(channel, message, parts)
        if message.get("reply_count"):
            thread = await call(client.conversations_replies(
                channel=channel, ts=str(message["ts"]), include_all_metadata=True,
                limit=LOOKUP_LIMIT))
            for reply in thread.get("messages") or []:
                _found(channel, reply, parts)
    parts.doubt = False
    logger.info("outbox %s: looked up in %s; parts out: %s", parts.key, channel,
                sorted(parts.sent) or "none")


def _part_of(message: Mapping[str, Any], parts: Parts) -> int | None:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    if metadata.get("event_type") != OUTBOX_EVENT or payload.get("outbox_id") != parts.key:
        return None
    part = payload.get("part")
    return part if isinstance(part, int) else None


def _found(channel: str, message: Mapping[str, Any], parts: Parts) -> None:
    part = _part_of(message, parts)
    if part is not None and part not in parts.sent:
        parts.posted(part, channel, message.get("ts"))


class Threads(Posts):
    """What one delivery posted: `Posts`, and the first message in each channel, where a
    reply with `thread_of=FIRST` goes. Ephemeral messages and files cannot hold a thread.
    Each Web API call that shows something is one part."""

    def __init__(self, parts: Parts | None = None) -> None:
        super().__init__(parts)
        self._first: dict[str, str] = {}

    def skipped(self, chat: str, ref: str) -> None:
        self.posted(chat, ref)

    def metadata(self, part: int) -> dict[str, Any] | None:
        if self.parts is None:
            return None
        return {"event_type": OUTBOX_EVENT,
                "event_payload": {"outbox_id": self.parts.key, "part": part}}

    def posted(self, chat: str, ref: object = None, part: int | None = None) -> None:
        if isinstance(ref, str) and ref:
            self._first.setdefault(chat, ref)
        super().posted(chat, ref if isinstance(ref, str) else "", part)

    def of(self, channel: str, reply: Reply) -> str | None:
        """The `thread_ts` for a reply in this channel (None: not in a thread)."""
        if reply.thread_of != FIRST:
            return reply.thread_of
        first = self._first.get(channel)
        if first is None:
            logger.warning("no first message in %s to thread a %s under; posted on its own",
                           channel, type(reply).__name__)
        return first


async def _ephemeral(
    client: AsyncWebClient, channel: str, user: str, reply: Reply, labels: Labels,
    threads: Threads,
) -> None:
    for message in render(reply, labels):
        part = await threads.start()
        if part is None:
            continue
        await call(client.chat_postEphemeral(
            channel=channel, user=user, text=message.text, blocks=message.blocks,
            thread_ts=threads.of(channel, reply),
        ))
        threads.posted(channel, part=part)


async def _post(client: AsyncWebClient, channel: str, reply: Reply, labels: Labels,
                threads: Threads) -> str:
    """Post one reply; returns the id of the conversation it went to (a post to a user id
    goes to the DM with them: Slack answers with the DM's id)."""
    if isinstance(reply, Image):
        part = await threads.start()
        if part is not None:
            await _upload(client, channel, reply, threads.of(channel, reply))
            threads.posted(channel, part=part)
        return channel
    messages = render(reply, labels)
    if reply.edit_of is not None and len(messages) == 1:
        part = await threads.start()
        if part is not None:
            await update(client, channel, reply.edit_of, messages[0])
            threads.posted(channel, reply.edit_of, part)
        return channel
    thread = threads.of(channel, reply)
    for message in messages:
        part = await threads.start()
        if part is None:
            continue
        response = await call(client.chat_postMessage(
            channel=channel, text=message.text, blocks=message.blocks,
            thread_ts=thread, unfurl_links=False, unfurl_media=False,
            metadata=threads.metadata(part),
        ))
        channel = str(response.get("channel") or channel)
        threads.posted(channel, response.get("ts"), part)
    return channel


async def update(client: AsyncWebClient, channel: str, ts: str, message: Message) -> None:
    await call(client.chat_update(channel=channel, ts=ts, text=message.text,
                                  blocks=message.blocks))


async def _upload(client: AsyncWebClient, channel: str, image: Image, thread: str | None
                  ) -> None:
    """Files upload v2: ask for an upload URL, send the bytes, then share the file."""
    await call(client.files_upload_v2(
        channel=channel, content=image.png, filename=IMAGE_NAME, title=image.caption[:250],
        initial_comment=escape(image.caption), thread_ts=thread,
    ))


async def show_choice(client: AsyncWebClient, respond: AsyncRespond, body: dict[str, Any],
                      chosen: str) -> None:
    """Show a pressed message with `chosen` instead of its buttons: `chat.update` for a
    message in a DM (Slack sends its blocks along), the press's response_url for an
    ephemeral one (Slack sends nothing of it, so the choice replaces it whole). Failures
    are logged: the answer itself was already given."""
    container = body.get("container") or {}
    shown = pressed((body.get("message") or {}).get("blocks") or [], chosen)
    try:
        if container.get("is_ephemeral"):
            answer = await respond(text=shown.text, blocks=shown.blocks, replace_original=True)
            if answer.status_code != 200:
                logger.info("Slack did not replace a pressed ephemeral message: %s %s",
                            answer.status_code, answer.body)
        elif container.get("message_ts") and container.get("channel_id"):
            await update(client, str(container["channel_id"]), str(container["message_ts"]),
                         shown)
    except (DeliveryError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
        logger.info("could not show the choice on a pressed Slack message: %r", exc)
