"""The Web API clients achtje uses on Slack, and what Slack's errors mean for whoever sent.

Only achtje's sender decides to post again: a client never repeats a post on its own
(slack_sdk's default connection-error retry is off for posts). Answers to a person wait
out one 429 and try a 5xx again (`replying`); the scheduled path does neither, so a 429
goes back to the sender, which tries later without holding up other chats.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.limits import CallLimits, LimitedClient
from bot.messages import DeliveryError, DeliveryUncertain, RetryLater, Unreachable

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
# Calls that post something: repeating one whose answer was lost could post it twice.
POSTS = ("chat.postMessage", "chat.postEphemeral", "files.completeUploadExternal",
         "chat.scheduleMessage")
REPLY_RETRIES = 2  # a reply Slack failed with a 5xx is tried again this often
SERVER_ERRORS = frozenset({500, 502, 503, 504})


class SlackUnreachable(Unreachable):
    """Unreachable, with the Slack error code that said so."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


async def call(request: Awaitable[T]) -> T:
    """Await one Web API call and turn its failure into a `DeliveryError`."""
    try:
        return await request
    except SlackApiError as exc:
        raise delivery_error(exc) from exc
    except aiohttp.ClientConnectorError as exc:  # never connected: nothing was sent
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


class NoRepeatedPosts(AsyncConnectionErrorRetryHandler):
    """slack_sdk's retry after a dropped connection, except for calls that post: the
    connection may have dropped after Slack took the post, and only achtje's sender
    (which can look the post up) decides whether to post again."""

    async def _can_retry_async(self, *, state: RetryState, request: HttpRequest,
                               response: HttpResponse | None = None,
                               error: Exception | None = None) -> bool:
        if request.url.rstrip("/").rsplit("/", 1)[-1] in POSTS:
            return False
        return await super()._can_retry_async(state=state, request=request,
                                              response=response, error=error)


def open_session(timeout: float = 30) -> aiohttp.ClientSession:
    """The one HTTP session (and connection pool) of a process's Web API clients: slack_sdk
    opens and closes a session per call unless it is given one, which is a new connection
    (against Slack a TLS handshake) per call. slack_sdk never closes a session it is given;
    the adapter closes this one when it stops. `timeout` is the clients' (slack_sdk sets it
    only on the sessions it opens itself)."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))


async def close_session(client: AsyncWebClient) -> None:
    """Close the session `open_session` gave `client`; its calls open their own again."""
    session, client.session = client.session, None
    if session is not None:
        await session.close()


def api_client(token: str | None, base_url: str | None, *, wait_on_429: bool = True,
               session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """A Web API client that never repeats a post on its own. With `wait_on_429` it waits
    out a 429 once (honouring Retry-After) before failing, for answers to a person; the
    scheduled path passes False, so a 429 goes straight back to the sender. With `session`
    its calls share that session's connections (see `open_session`)."""
    handlers: list[AsyncRetryHandler] = [NoRepeatedPosts()]
    if wait_on_429:
        handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    url = base_url or AsyncWebClient.BASE_URL
    return AsyncWebClient(token=token, base_url=url if url.endswith("/") else url + "/",
                          retry_handlers=handlers, session=session)


def scheduled_client(client: AsyncWebClient, limits: CallLimits | None = None,
                     workspace: str = "") -> AsyncWebClient:
    """The same token and server, without waiting out a 429 (see `api_client`); with
    `limits`, each call takes its method's shared bucket of `workspace` first. It shares
    `client`'s session."""
    if limits is None:
        return api_client(client.token, client.base_url, wait_on_429=False,
                          session=client.session)
    url = client.base_url
    return LimitedClient(limits=limits, workspace=workspace, token=client.token,
                         base_url=url if url.endswith("/") else url + "/",
                         retry_handlers=[NoRepeatedPosts()], session=client.session)


class ServerErrorRetry(AsyncRetryHandler):
    """Tries a call again after Slack answered 500, 502, 503 or 504: Slack did not take
    it. For answers to a person only (the scheduled path has its own rules, see
    docs/delivery.md): a press must not end without its next question."""

    async def _can_retry_async(self, *, state: RetryState, request: HttpRequest,
                               response: HttpResponse | None = None,
                               error: Exception | None = None) -> bool:
        return response is not None and response.status_code in SERVER_ERRORS


def replying(client: AsyncWebClient) -> AsyncWebClient:
    """The client, also trying a call again (at most `REPLY_RETRIES` times) after a 5xx;
    on the same session."""
    if any(isinstance(handler, ServerErrorRetry) for handler in client.retry_handlers):
        return client
    return AsyncWebClient(token=client.token, base_url=client.base_url, session=client.session,
                          retry_handlers=[*client.retry_handlers,
                                          ServerErrorRetry(max_retry_count=REPLY_RETRIES)])
