"""Posting rendered replies through the Slack Web API, and what Slack's errors mean for us.

Private replies in a channel are ephemeral messages to the one person; when Slack will not
show an ephemeral there (the bot is not in the channel, for instance) they go to the
person's DM instead, never to the channel. Images cannot be ephemeral, so a private image
always goes to the DM. A reply with `thread_of=FIRST` goes in the thread of the first
message this delivery posted in the same channel.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    async_default_handlers,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import Labels, Message, escape, pressed, render
from bot.messages import (
    FIRST,
    DeliveryError,
    DeliveryUncertain,
    Image,
    Reply,
    RetryLater,
    Unreachable,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Slack errors that mean: this person or channel cannot be reached; retrying will not help.
UNREACHABLE = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "user_not_found",
    "account_inactive", "cannot_dm_bot", "user_disabled", "user_not_in_channel",
    "messages_tab_disabled", "team_access_revoked",
})
# Of those, the ones about the channel: a reply to someone can still go to their DM.
NO_POST_HERE = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "user_not_in_channel",
})
# Of those, the ones about the person: they are marked unreachable.
PERSON_GONE = frozenset({
    "user_not_found", "account_inactive", "cannot_dm_bot", "user_disabled",
    "messages_tab_disabled",
})
DEFAULT_RETRY_AFTER = 30.0
IMAGE_NAME = "achtje.png"


class SlackUnreachable(Unreachable):
    """Unreachable, with the Slack error code that said so."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True)
class Target:
    """Where replies go: a Slack channel (None: the person's DM) and who they are for."""

    channel: str | None
    user: str | None
    direct: bool


async def call(request: Awaitable[T]) -> T:
    """Await one Web API call and turn its failure into a `DeliveryError`."""
    try:
        return await request
    except SlackApiError as exc:
        raise delivery_error(exc) from exc
    except aiohttp.ClientConnectorError as exc:
        raise RetryLater(DEFAULT_RETRY_AFTER, f"cannot connect to Slack: {exc}") from exc
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise DeliveryUncertain(f"no answer from Slack: {exc!r}") from exc


def delivery_error(exc: SlackApiError) -> DeliveryError:
    response = exc.response
    data = response.data if response is not None and isinstance(response.data, dict) else {}
    error = str(data.get("error") or "")
    status = response.status_code if response is not None else 0
    if status == 429 or error == "ratelimited":
        headers = response.headers if response is not None else {}
        return RetryLater(retry_after(headers), "Slack asked to slow down")
    if error in UNREACHABLE:
        return SlackUnreachable(error)
    if status >= 500:
        return DeliveryUncertain(f"Slack answered {status}")
    return DeliveryError(error or f"Slack answered {status}")


def retry_after(headers: Mapping[str, Any]) -> float:
    """Seconds from a Retry-After header; 30 when it is missing or unreadable."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                break
    return DEFAULT_RETRY_AFTER


def api_client(token: str | None, base_url: str | None) -> AsyncWebClient:
    """A Web API client that waits out a 429 once (honouring Retry-After) before failing."""
    handlers = [*async_default_handlers(), AsyncRateLimitErrorRetryHandler(max_retry_count=1)]
    url = base_url or AsyncWebClient.BASE_URL
    return AsyncWebClient(token=token, base_url=url if url.endswith("/") else url + "/",
                          retry_handlers=handlers)


async def slack_profile(client: AsyncWebClient, user: str) -> dict[str, Any] | None:
    """Someone's Slack profile with their locale; None (logged) if Slack will not say."""
    try:
        response = await call(client.users_info(user=user, include_locale=True))
    except DeliveryError as exc:
        logger.info("no Slack profile for %s: %s", user, exc)
        return None
    found = response.get("user")
    return found if isinstance(found, dict) else None


async def open_dm(client: AsyncWebClient, user: str) -> str:
    """The id of the bot's DM with this person (Slack opens it if needed)."""
    response = await call(client.conversations_open(users=user))
    channel = response.get("channel") or {}
    return str(channel["id"])


async def deliver(
    client: AsyncWebClient, target: Target, replies: Sequence[Reply], labels: Labels
) -> None:
    """Post every reply in order; raise a `DeliveryError` at the first that Slack refuses.
    Once a message went out, that is `DeliveryUncertain` unless it is `Unreachable`:
    sending them all again would repeat what arrived.

    When achtje may not post in a channel (it was never invited, for instance) and the
    replies answer someone, they reach that person in their DM instead.
    """
    threads = Threads()
    try:
        await _deliver(client, target, replies, labels, threads)
    except Unreachable:
        raise
    except Exception as exc:
        if not threads.anything:
            raise
        raise DeliveryUncertain(f"failed after part of it was posted: {exc!r}") from exc


async def _deliver(client: AsyncWebClient, target: Target, replies: Sequence[Reply],
                   labels: Labels, threads: Threads) -> None:
    dm = target.channel if target.direct else None

    async def to_dm(reply: Reply) -> None:
        nonlocal dm
        if dm is None:
            if target.user is None:
                raise DeliveryError("no channel and no person to send to")
            dm = await open_dm(client, target.user)
        await _post(client, dm, reply, labels, threads)

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


class Threads:
    """What one delivery posted: whether anything yet, and the first message in each
    channel, where a reply with `thread_of=FIRST` goes. Ephemeral messages and files
    cannot hold a thread."""

    def __init__(self) -> None:
        self._first: dict[str, str] = {}
        self.anything = False

    def posted(self, channel: str, ts: object = None) -> None:
        self.anything = True
        if isinstance(ts, str) and ts:
            self._first.setdefault(channel, ts)

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
        await call(client.chat_postEphemeral(
            channel=channel, user=user, text=message.text, blocks=message.blocks,
            thread_ts=threads.of(channel, reply),
        ))
        threads.posted(channel)


async def _post(client: AsyncWebClient, channel: str, reply: Reply, labels: Labels,
                threads: Threads) -> None:
    if isinstance(reply, Image):
        await _upload(client, channel, reply, threads.of(channel, reply))
        threads.posted(channel)
        return
    messages = render(reply, labels)
    if reply.edit_of is not None and len(messages) == 1:
        await update(client, channel, reply.edit_of, messages[0])
        threads.posted(channel, reply.edit_of)
        return
    thread = threads.of(channel, reply)
    for message in messages:
        response = await call(client.chat_postMessage(
            channel=channel, text=message.text, blocks=message.blocks,
            thread_ts=thread, unfurl_links=False, unfurl_media=False,
        ))
        threads.posted(channel, response.get("ts"))


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
