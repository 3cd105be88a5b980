"""Rendering for Telegram and reading its updates: pure functions, no network."""

from __future__ import annotations

import itertools
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import ForceReply, InlineKeyboardMarkup, Update

from adapters.telegram.delivery import delivery_error
from adapters.telegram.render import (
    MAX_TEXT,
    Asked,
    Outgoing,
    button_values,
    render,
    text_spans,
    utf16_len,
)
from adapters.telegram.translate import decode_start, encode_start, to_incoming
from bot.messages import (
    Choice,
    DeliveryError,
    DeliveryUncertain,
    FreeText,
    Image,
    Invitation,
    Mention,
    Option,
    Reply,
    RetryLater,
    Scale,
    Text,
    Unreachable,
    mention_mark,
)

EMOJI = ["🙂", "👩‍👩‍👧‍👦", "🇳🇱", "👍🏽", "1️⃣", "é", "e\u0301", "🏴\U000e0067\U000e0062\U000e0065"
         "\U000e006e\U000e0067\U000e007f"]


def show(reply: Reply, chat: int = 111, thread: int | None = None,
         asked: Asked | None = None) -> list[Outgoing]:
    data = {value: f"cb{n}" for n, value in enumerate(button_values(reply, chat > 0))}
    return render(reply, chat=chat, bot_username="achtje_bot", callback_data=data,
                  thread=thread, asked=asked)


def buttons(outgoing: Outgoing) -> list[list[str]]:
    assert isinstance(outgoing.markup, InlineKeyboardMarkup)
    return [[b.text for b in row] for row in outgoing.markup.inline_keyboard]


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """The pieces `render` sends a long text in."""
    return [text[start:end] for start, end in text_spans(text, limit)]


def test_ten_thousand_characters_of_emoji_split_whole_and_in_order() -> None:
    text = "".join(EMOJI[n % len(EMOJI)] for n in range(10_000))
    pieces = split_text(text)
    assert len(pieces) > 2 and "".join(pieces) == text
    for piece in pieces:
        assert utf16_len(piece) <= MAX_TEXT
        piece.encode("utf-8")  # no lone surrogates
    for left, right in itertools.pairwise(pieces):
        # No emoji is cut: every seam lies between two of the emoji we wrote.
        assert any(left.endswith(e) for e in EMOJI) and any(right.startswith(e) for e in EMOJI)
        assert not unicodedata.category(right[0]).startswith("M")


def test_long_prose_is_split_at_paragraphs_and_spaces() -> None:
    paragraph = "Wat zou helpen om vaker samen te komen? " * 60
    pieces = split_text("\n\n".join([paragraph.strip()] * 4))
    assert len(pieces) == 4 and all(p == paragraph.strip() for p in pieces)
    words = split_text("woord " * 2000)
    assert all(p.split(" ") == ["woord"] * len(p.split(" ")) for p in words)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12_000))
def test_any_text_splits_into_pieces_telegram_takes(text: str) -> None:
    pieces = split_text(text, limit=500)
    assert all(0 < utf16_len(p) <= 500 for p in pieces)
    # Only whitespace at the seams is dropped (Telegram trims it anyway).
    assert "".join("".join(p.split()) for p in pieces) == "".join(text.split())


def test_mentions_are_text_mentions_and_everything_else_stays_as_typed() -> None:
    text = Text(text=f"🙂 {mention_mark(0)} en {mention_mark(1)} <b>koffie</b> met "
                     f"{mention_mark(2)}; {mention_mark(9)}weg",
                mentions=(Mention("111", "Anna"), Mention("222", "<!channel> Bob"),
                          Mention("T1:U3", "Cem")))
    [message] = show(text, chat=-100)
    assert message.text == "🙂 Anna en <!channel> Bob <b>koffie</b> met Cem; weg"
    anna, bob = message.entities  # Cem is no Telegram user: his name stays plain text
    assert (anna.type, anna.offset, anna.length) == ("text_mention", 3, 4)  # 🙂 is 2 units
    assert anna.user is not None and anna.user.id == 111
    assert (bob.offset, bob.length) == (11, 14) and bob.user is not None
    assert bob.user.id == 222 and bob.user.first_name == "<!channel> Bob"


def test_a_long_text_keeps_each_mention_in_its_own_piece_and_answers_its_thread() -> None:
    words = "woord " * 700
    text = Text(text=f"{words}{mention_mark(0)} {words}{mention_mark(1)}",
                mentions=(Mention("111", "Anna de Wit"), Mention("222", "Bob")))
    pieces = show(text, thread=42)
    assert [p.reply_to for p in pieces] == [42] + [None] * (len(pieces) - 1)
    found = [(piece.text[m.offset:m.offset + m.length], m.user.id)
             for piece in pieces for m in piece.entities if m.user is not None]
    assert found == [("Anna de Wit", 111), ("Bob", 222)]
    assert all(utf16_len(p.text) <= MAX_TEXT for p in pieces)


def test_empty_text_sends_nothing() -> None:
    assert show(Text(text=" \n ")) == []


def test_a_scale_is_one_row_of_five_and_a_row_for_dont_know_and_skip() -> None:
    labels = ["helemaal mee oneens", "mee oneens", "neutraal", "mee eens",
              "helemaal mee eens", "weet ik niet", "overslaan"]
    scale = Scale(prompt="1/3 · Ambitie\nWe willen hetzelfde.",
                  options=tuple(Option(label, f"s:1:a:{n}") for n, label in enumerate(labels)))
    [message] = show(scale)
    assert buttons(message) == [["1", "2", "3", "4", "5"], ["weet ik niet", "overslaan"]]
    assert message.text.endswith("1 = helemaal mee oneens · 5 = helemaal mee eens")


def test_a_choice_has_one_button_per_row() -> None:
    [message] = show(Choice(prompt="Kies", options=(Option("A", "a:1"), Option("B", "b:2"))))
    assert buttons(message) == [["A"], ["B"]]


def test_free_text_offers_skip_or_a_reply_field() -> None:
    [with_skip] = show(FreeText(prompt="Wat helpt?", skip=Option("Overslaan", "f:1:a:skip")))
    assert buttons(with_skip) == [["Overslaan"]]
    [plain] = show(FreeText(prompt="Wat helpt?"))
    assert isinstance(plain.markup, ForceReply)
    # In a group (privacy mode) an answer reaches the bot only as a reply to its question.
    [to_all] = show(FreeText(prompt="Wat helpt?"), chat=-100)
    assert isinstance(to_all.markup, ForceReply) and not to_all.markup.selective


def test_a_typed_question_in_a_group_opens_the_reply_field_of_the_one_asked() -> None:
    ask = FreeText(prompt="Hoe heet jullie samenwerkingsverband?")
    # After a typed line: the question answers it, so Telegram prompts its sender.
    [answering] = show(ask, chat=-100, asked=Asked(111, "Anna", message=7))
    assert isinstance(answering.markup, ForceReply) and answering.markup.selective
    assert (answering.text, answering.reply_to, answering.entities) == (ask.prompt, 7, ())
    # After a press there is no line of theirs to answer: the question names them.
    [naming] = show(ask, chat=-100, asked=Asked(111, "Anna <b>", message=None))
    assert isinstance(naming.markup, ForceReply) and naming.markup.selective
    assert naming.text == "Anna <b>: Hoe heet jullie samenwerkingsverband?"
    [mention] = naming.entities
    assert (mention.type, mention.offset, mention.length) == ("text_mention", 0, 8)
    assert mention.user is not None and mention.user.id == 111
    # A question in a thread stays in it, and names the person.
    [threaded] = show(ask, chat=-100, asked=Asked(111, "Anna", message=7), thread=3)
    assert threaded.reply_to == 3 and threaded.text.startswith("Anna: ")


def test_an_invitation_in_a_group_is_a_deep_link_and_in_private_a_button() -> None:
    invitation = Invitation(text="Nieuwe ronde", button="Doe mee", action="cmd:checkin")
    [in_group] = show(invitation, chat=-1001234)
    assert isinstance(in_group.markup, InlineKeyboardMarkup)
    link = in_group.markup.inline_keyboard[0][0].url
    assert link == "https://t.me/achtje_bot?start=G1001234_cmd-checkin"
    [in_private] = show(invitation)
    assert isinstance(in_private.markup, InlineKeyboardMarkup)
    assert in_private.markup.inline_keyboard[0][0].callback_data == "cb0"


def test_an_image_keeps_a_short_caption_and_sends_a_long_one_as_text() -> None:
    [photo] = show(Image(png=b"png", caption="Overzicht"))
    assert (photo.photo, photo.text) == (b"png", "Overzicht")
    photo, *rest = show(Image(png=b"png", caption="x " * 1000))
    assert photo.text == "" and rest and rest[0].photo is None


@pytest.mark.parametrize("action", ["cmd:checkin", "s:12:ambition_1:4", "cmd:valkuilen 3",
                                    "pitfall:taal-verwarring", "lang:nl", "ë:🙂"])
@pytest.mark.parametrize("group", [None, -1001234567890, -42])
def test_start_payloads_round_trip_within_telegrams_rules(action: str, group: int | None
                                                          ) -> None:
    payload = encode_start(action, group)
    assert payload is not None and len(payload) <= 64
    assert all(c.isascii() and (c.isalnum() or c in "_-") for c in payload)
    assert decode_start(payload) == (action, group)


def test_start_payloads_we_never_made_are_ignored() -> None:
    assert encode_start("cmd:" + "x" * 70) is None
    assert decode_start("not valid!") == (None, None)
    assert decode_start("_%%%") == (None, None)
    assert decode_start("_w") == (None, None)  # base64, but not UTF-8 text
    assert decode_start("_AAAA") == (None, None)  # text, but not printable


def _update(message: dict[str, object]) -> Update:
    return Update.de_json({"update_id": 7, "message": {
        "message_id": 1, "date": 0, "from": {"id": 5, "is_bot": False, "first_name": "Ann",
                                             "last_name": "de Wit", "language_code": "en"},
        **message}}, None)


def test_updates_become_incoming_events() -> None:
    private = {"id": 5, "type": "private", "first_name": "Ann"}
    group = {"id": -9, "type": "group", "title": "Leerlab"}
    said = to_incoming(_update({"chat": private, "text": "hallo"}), "achtje_bot")
    assert said is not None
    assert (said.user, said.chat, said.direct, said.text, said.locale, said.display_name,
            said.event_id) == ("5", "5", True, "hallo", "en", "Ann de Wit", "u7")
    # In a group only commands count, and only those for this bot.
    assert to_incoming(_update({"chat": group, "text": "koffie?"}), "achtje_bot") is None
    assert to_incoming(_update({"chat": group, "text": "/help@other_bot"}), "achtje_bot") is None
    command = to_incoming(_update({"chat": group, "text": "/help@Achtje_Bot"}), "achtje_bot")
    assert command is not None and (command.direct, command.chat) == (False, "-9")
    # A deep link from a group comes back as said in that group; a broken one as /start.
    linked = to_incoming(_update({"chat": private, "text": "/start G9_cmd-checkin"}), "b")
    assert linked is not None
    assert (linked.chat, linked.direct, linked.action) == ("-9", False, "cmd:checkin")
    broken = to_incoming(_update({"chat": private, "text": "/start ???"}), "b")
    assert broken is not None and (broken.text, broken.action) == ("/start", None)
    aside = to_incoming(_update({"chat": private, "text": "@iemand hoi"}), "achtje_bot")
    assert aside is not None and aside.text == "@iemand hoi"


def test_a_group_line_counts_when_it_answers_or_addresses_the_bot() -> None:
    group = {"id": -9, "type": "group", "title": "Leerlab"}
    bot = {"id": 1, "is_bot": True, "first_name": "achtje", "username": "achtje_bot"}
    person = {"id": 6, "is_bot": False, "first_name": "Bob"}
    question = {"message_id": 3, "date": 0, "chat": group, "from": bot, "text": "Naam?"}
    answer = to_incoming(_update({"chat": group, "text": "Techniek Twente",
                                  "reply_to_message": question}), "achtje_bot")
    assert answer is not None
    assert (answer.text, answer.chat, answer.direct, answer.message, answer.thread) == (
        "Techniek Twente", "-9", False, "1", "3")
    assert answer.visible and not answer.addressed  # for the group: never a command
    chatter = {**question, "from": person}
    assert to_incoming(_update({"chat": group, "text": "klopt",
                                "reply_to_message": chatter}), "achtje_bot") is None
    other_bot = {**question, "from": {**bot, "username": "other_bot"}}
    assert to_incoming(_update({"chat": group, "text": "klopt",
                                "reply_to_message": other_bot}), "achtje_bot") is None
    addressed = to_incoming(_update({"chat": group, "text": "@Achtje_Bot koffie aan"}),
                            "achtje_bot")
    assert addressed is not None and addressed.text == "koffie aan"
    assert addressed.visible and addressed.addressed  # a command if it starts with one
    assert to_incoming(_update({"chat": group, "text": "@achtje_bot"}), "achtje_bot") is None
    assert to_incoming(_update({"chat": group, "text": "hoi @achtje_bot"}), "achtje_bot") is None


def test_a_press_names_its_message_thread_and_person() -> None:
    group = {"id": -9, "type": "supergroup", "title": "Leerlab"}
    bot = {"id": 1, "is_bot": True, "first_name": "achtje", "username": "achtje_bot"}
    poll = {"message_id": 12, "date": 0, "chat": group, "from": bot, "text": "Peiling",
            "reply_to_message": {"message_id": 10, "date": 0, "chat": group, "from": bot,
                                 "text": "Ronde 3"}}
    presses = [to_incoming(Update.de_json({"update_id": n, "callback_query": {
        "id": str(n), "chat_instance": "ci", "data": "pv:4:2", "message": poll,
        "from": {"id": user, "is_bot": False, "first_name": "x"}}}, None), "achtje_bot")
        for n, user in ((1, 5), (2, 5), (3, 6))]
    assert all(p is not None and (p.message, p.thread, p.action, p.direct) ==
               ("12", "10", "pv:4:2", False) for p in presses)
    # In a group every update counts: a vote may be changed back (A, B, A again).
    assert len({p.event_id for p in presses if p is not None}) == 3
    # In a private chat tapping twice is one event: the question is answered once.
    private = {"id": 5, "type": "private", "first_name": "x"}
    question = {**poll, "chat": private}
    taps = [to_incoming(Update.de_json({"update_id": n, "callback_query": {
        "id": str(n), "chat_instance": "ci", "data": "s:4:a:2", "message": question,
        "from": {"id": 5, "is_bot": False, "first_name": "x"}}}, None), "achtje_bot")
        for n in (4, 5)]
    assert taps[0] and taps[1] and taps[0].event_id == taps[1].event_id


@pytest.mark.parametrize(("error", "expected"), [
    ("RetryAfter", RetryLater), ("Forbidden", Unreachable), ("TimedOut", DeliveryUncertain),
    ("NetworkError", RetryLater), ("BadRequest", DeliveryError),
])
def test_telegram_errors_say_what_the_sender_should_do(error: str,
                                                       expected: type[DeliveryError]) -> None:
    from telegram import error as errors

    raised = errors.RetryAfter(7) if error == "RetryAfter" else getattr(errors, error)("x")
    mapped = delivery_error(raised)
    assert type(mapped) is expected
    if isinstance(mapped, RetryLater) and error == "RetryAfter":
        assert mapped.retry_after == 7
    chat_gone = delivery_error(errors.BadRequest("Chat not found"))
    assert isinstance(chat_gone, Unreachable)
