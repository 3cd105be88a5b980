"""The feature registry: what each command, button kind and typed-answer flow declares,
and what is made from it (help, the Telegram menu, the leaders' part of help)."""

from __future__ import annotations

import pytest

from bot import features, registry
from bot.content import Content
from bot.messages import Reply
from bot.registry import parse_command

assert features.MODULES  # every feature's declarations are in the registry


def test_commands_are_read_from_the_first_word_in_any_case() -> None:
    assert parse_command("/Help@achtje_bot extra") == ("help", "extra")
    assert parse_command("Taal EN") == ("taal", "en")
    assert parse_command("koffie") == ("koffie", "")
    assert parse_command("nergens heen") == (None, "nergens heen")
    assert parse_command("") == (None, "")


def test_every_listed_command_has_its_words_in_both_languages(content: Content) -> None:
    for command in registry.commands():
        for language in ("nl", "en"):
            if command.help:
                line = content.text(f"command_{command.name}", language)
                typed, _, what = line.partition(": ")
                assert what, line  # "what to type: what it does"
                for each in typed.split(" / "):  # "koffie uit / koffie aan"
                    assert registry.find(each.split()[0]) is command, line
            if command.menu:
                assert content.text(f"telegram_command_{command.name}", language)


def test_help_has_a_part_for_leaders_with_what_only_they_can_type() -> None:
    """And one for board members with what they can type besides. (What help reads, word
    for word, is pinned in tests/test_roles.py; the menu in tests/test_telegram.py.)"""
    leaders, everyone = registry.in_help(leaders=True), registry.in_help()
    board = registry.in_help(board=True)
    assert leaders and all(c.leaders or c.leader_words or c.board for c in leaders)
    assert everyone and not any(c.leaders or c.leader_words or c.board for c in everyone)
    assert board and set(board) <= set(leaders) and not any(c.leaders for c in board)
    for listed in (leaders, everyone, board, [c for c in registry.commands() if c.menu]):
        assert len({c.order for c in listed}) == len(listed)  # each in a place of its own


def test_who_may_do_what_before_signing_up() -> None:
    early = {c.name for c in registry.commands() if c.before_onboarding}
    assert early == {"help", "privacy", "taal"}
    greetings = [c for c in registry.commands() if c.greeting]
    assert [c.names for c in greetings] == [("start", "hoi", "hallo", "hi", "hello")]
    kinds = {kind for kind in registry.action_kinds()
             if (found := registry.find_action(kind)) is not None and found.onboarding}
    assert kinds == {"school", "level", "lang", "avg"}


async def _nothing(*_args: object) -> list[Reply]:
    return []


def test_a_name_kind_or_flow_is_declared_once() -> None:
    before = (registry.commands(), registry.action_kinds())
    with pytest.raises(ValueError):
        registry.command("nieuw", "help")(_nothing)
    with pytest.raises(ValueError):
        registry.command("Hoofdletter")(_nothing)
    with pytest.raises(ValueError):
        registry.action("pv")(_nothing)
    with pytest.raises(ValueError):
        registry.text_flow("checkin")(_nothing)
    assert (registry.commands(), registry.action_kinds()) == before
    assert registry.find("nieuw") is None


def test_the_flows_a_stop_word_leaves_say_so_in_both_languages(content: Content) -> None:
    """A stop word is handled by the registry for every flow declared with `stopped`
    (what each says is pinned in tests/test_forgiving_input.py)."""
    leaving = {"checkin": "checkin_stopped", "followup": "checkin_stopped",
               "schedule": "menu_stopped", "talk_plate": "talk_note_cancelled",
               "reflection": "reflection_stopped", "figure_eight": "eight_stopped",
               "matrix": "matrix_stopped"}
    for flow, key in leaving.items():
        declared = registry.find_flow(flow)
        assert declared is not None and declared.stopped == key, flow
        for language in ("nl", "en"):
            assert content.text(key, language)
