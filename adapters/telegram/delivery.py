"""Telegram's side of delivering: answering and tidying button presses, editing a message,
and what a Bot API error means for whoever sent the message (a `DeliveryError` subclass)."""

from __future__ import annotations

import logging
import warnings
from datetime import timedelta

from telegram import Bot, CallbackQuery, ForceReply, Message
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from adapters.telegram import render as rendering
from bot.messages import DeliveryError, DeliveryUncertain, RetryLater, Unreachable

logger = logging.getLogger(__name__)

NETWORK_PAUSE = 5.0  # seconds before a send that failed on the network is worth retrying
_GONE = ("chat not found", "user not found", "peer_id_invalid")


async def answer(query: CallbackQuery) -> None:
    """Always answer a button press, so the client stops showing a spinner."""
    try:
        await query.answer()
    except TelegramError as exc:
        logger.info("could not answer telegram callback query: %s", exc)


def pressed_label(query: CallbackQuery) -> str | None:
    """What the pressed button said."""
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return None
    return next((button.text for row in message.reply_markup.inline_keyboard
                 for button in row if button.callback_data == query.data), None)


async def tidy(query: CallbackQuery, chosen: str | None) -> None:
    """Show what was chosen under the question and take the buttons away, so an old
    question cannot be answered by accident and a second tap has nothing to press. The
    question keeps its mentions; a photo, or a text that would grow too long, only loses
    its buttons."""
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return
    try:
        text = message.text or ""
        picked = f"{text}\n\n{chosen}"
        if text and chosen and rendering.utf16_len(picked) <= rendering.MAX_TEXT:
            await query.edit_message_text(picked, entities=message.entities or None)
        else:
            await query.edit_message_reply_markup(None)
    except TelegramError as exc:
        logger.info("could not tidy a pressed telegram message: %s", exc)


async def edit(bot: Bot, chat_id: int, message_id: int,
               messages: list[rendering.Outgoing]) -> bool:
    """Replace an earlier message's text (and inline keyboard). False when the reply does
    not fit in one such edit (a photo, a long text, a reply field): post it anew then."""
    if len(messages) != 1 or messages[0].photo is not None:
        return False
    message, markup = messages[0], messages[0].markup
    if isinstance(markup, ForceReply):
        return False
    try:
        await bot.edit_message_text(message.text, chat_id=chat_id, message_id=message_id,
                                    entities=message.entities or None, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise delivery_error(exc) from exc
    except TelegramError as exc:
        raise delivery_error(exc) from exc
    return True


def delivery_error(exc: TelegramError) -> DeliveryError:
    """What a refused message means for the sender: wait, give up on the person, or not
    know whether it arrived. A flood wait comes back as `RetryLater`: the caller decides
    when to try again (the outbox row's not_before, or the replies' per-chat limiter)."""
    match exc:
        case RetryAfter():
            return RetryLater(flood_wait(exc), exc.message)
        case Forbidden():
            return Unreachable(exc.message)
        case TimedOut():
            return DeliveryUncertain(exc.message)
        case BadRequest() if any(gone in exc.message.lower() for gone in _GONE):
            return Unreachable(exc.message)  # never wrote to us, or no longer exists
        case BadRequest():
            return DeliveryError(exc.message)
        case NetworkError():
            return RetryLater(NETWORK_PAUSE, exc.message)
    return DeliveryError(exc.message)


def flood_wait(exc: RetryAfter) -> float:
    """The seconds a flood wait (429) asks for (PTB gives an int or a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        wait = exc.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
