"""The feature registry: every chat command, button kind and typed-answer flow, declared
once, next to its handler.

    @registry.command("samenvatting", "summary", leaders=True)
    async def command(turn: Turn, arg: str) -> list[Reply]: ...

    @registry.action("pv")  # pv:<poll id>:<pitfall number>
    async def act_vote(turn: Turn, parts: list[str]) -> list[Reply]: ...

    @registry.text_flow(FLOW, stopped="checkin_stopped")
    async def typed(turn: Turn, data: dict[str, Any], text: str) -> list[Reply]: ...

The declarations run when their modules are imported: `bot.features` imports them all,
and the engine imports `bot.features`. From what is declared here come the engine's
routing, the leaders-only refusal, the help text (`command_<name>` in content/) and the
Telegram command menu (`telegram_command_<name>`); tests/test_roles_matrix.py tries every
command for every role from it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from bot.flows.turn import Said, Turn, says_stop
from bot.messages import Reply
from bot.store import repo

CommandHandler = Callable[[Turn, str], Awaitable[list[Reply]]]
Chats = Literal["direct", "group", "both"]  # where a command is meant to be typed
ActionHandler = Callable[[Turn, list[str]], Awaitable[list[Reply]]]
FlowHandler = Callable[[Turn, dict[str, Any], str], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Command:
    """A chat command under all its names (`names[0]` names its content keys).

    `leaders`: only project leaders, under every name; the engine refuses anyone else
    before the handler runs. `leader_words`: the words after the command that only leaders
    may use ("" is the command alone); the handler refuses those itself.
    `before_onboarding`: open to someone we do not know yet (help, privacy, language).
    `greeting`: from a newcomer it starts the sign-up questions and is not replayed after.
    `help`: has a line in help (`command_<name>`): in the leaders' part when the command or
    some of its words are for leaders. `board`: also for board members (the summary by mail,
    the dashboard): help lists it in the leaders' part and in the board's. `menu`: in the
    Telegram command menu
    (`telegram_command_<name>`). Help and the menu list commands by `order`. `chats`: where
    it is meant to be typed, a private chat, a group, or both (Teams' two command menus
    follow it; a `greeting` is Telegram's own /start and in neither).
    """

    names: tuple[str, ...]
    handler: CommandHandler
    leaders: bool = False
    leader_words: tuple[str, ...] = ()
    before_onboarding: bool = False
    greeting: bool = False
    help: bool = False
    menu: bool = False
    order: int = 0
    board: bool = False
    chats: Chats = "direct"

    @property
    def name(self) -> str:
        return self.names[0]

    @property
    def for_leaders(self) -> bool:
        """Whether help lists it among what only project leaders can type."""
        return self.leaders or bool(self.leader_words)


@dataclass(frozen=True)
class Action:
    """A button kind: values `<kind>:<part>:<part>...`. `onboarding`: may be pressed
    before the member's sign-up questions are answered."""

    kind: str
    handler: ActionHandler
    onboarding: bool = False


@dataclass(frozen=True)
class TextFlow:
    """A conversation that takes a typed answer of its own (a name, a plan step, a score).

    `sentences`: its answers are free text, so a sentence that begins with a command word
    ("Taal is lastig voor ons") answers it rather than running the command.
    `stopped`: a stop word ("stop", "klaar", "annuleer") leaves the flow: its open question
    ends and this content key is said; the handler never sees the word.
    """

    flow: str
    handler: FlowHandler
    sentences: bool = True
    stopped: str | None = None


_COMMANDS: dict[str, Command] = {}  # every name -> its command
_ACTIONS: dict[str, Action] = {}
_FLOWS: dict[str, TextFlow] = {}


def command(
    *names: str, leaders: bool = False, leader_words: tuple[str, ...] = (),
    before_onboarding: bool = False, greeting: bool = False, help: bool = False,
    menu: bool = False, order: int = 0, board: bool = False, chats: Chats = "direct",
) -> Callable[[CommandHandler], CommandHandler]:
    """Declare a command under `names`; see `Command`."""

    def declare(handler: CommandHandler) -> CommandHandler:
        declared = Command(names, handler, leaders, leader_words, before_onboarding,
                           greeting, help, menu, order, board, chats)
        for name in names:
            if name in _COMMANDS or name != name.lower() or not name or " " in name:
                raise ValueError(f"command name {name!r} declared twice or not one word")
        _COMMANDS.update(dict.fromkeys(names, declared))
        return handler

    return declare


def action(kind: str, onboarding: bool = False) -> Callable[[ActionHandler], ActionHandler]:
    """Declare the handler of the buttons `<kind>:...`; see `Action`."""

    def declare(handler: ActionHandler) -> ActionHandler:
        if kind in _ACTIONS or ":" in kind:
            raise ValueError(f"action kind {kind!r} declared twice or with a colon")
        _ACTIONS[kind] = Action(kind, handler, onboarding)
        return handler

    return declare


def text_flow(flow: str, sentences: bool = True, stopped: str | None = None
              ) -> Callable[[FlowHandler], FlowHandler]:
    """Declare the handler of typed answers while the member's open question is `flow`;
    see `TextFlow`."""

    def declare(handler: FlowHandler) -> FlowHandler:
        if flow in _FLOWS:
            raise ValueError(f"text flow {flow!r} declared twice")
        answers = handler if stopped is None else _leaves_on_stop(handler, stopped)
        _FLOWS[flow] = TextFlow(flow, answers, sentences, stopped)
        return handler

    return declare


def _leaves_on_stop(handler: FlowHandler, stopped: str) -> FlowHandler:
    """`handler`, except that a stop word ends the open question and says `stopped`."""

    async def answer(turn: Turn, data: dict[str, Any], text: str) -> list[Reply]:
        if says_stop(text):
            await repo.clear_conversation(turn.session, turn.member.id)
            return [turn.say(stopped)]
        return await handler(turn, data, text)

    return answer


def parse_command(text: str) -> tuple[str | None, str]:
    """`/Help@achtje_bot extra` -> ("help", "extra"); not a command -> (None, text)."""
    first, _, rest = text.partition(" ")
    name = first.lstrip("/").split("@", 1)[0].lower()
    return (name, rest.strip().lower()) if name in _COMMANDS else (None, text)


def find(name: str) -> Command | None:
    return _COMMANDS.get(name)


def commands() -> list[Command]:
    """Every command once, in the order declared."""
    return list(dict.fromkeys(_COMMANDS.values()))


def find_action(kind: str) -> Action | None:
    return _ACTIONS.get(kind)


def action_kinds() -> list[str]:
    return list(_ACTIONS)


def find_flow(flow: str) -> TextFlow | None:
    return _FLOWS.get(flow)


def in_help(leaders: bool = False, board: bool = False) -> list[Command]:
    """The commands of one part of help: everyone's; what leaders can type besides; or
    what board members can type besides."""

    def listed(c: Command) -> bool:
        if board:
            return c.board
        return c.for_leaders or c.board if leaders else not (c.for_leaders or c.board)

    return sorted((c for c in commands() if c.help and listed(c)), key=lambda c: c.order)


def menu(chats: Chats | None = None) -> list[str]:
    """The names in the Telegram command menu, in order; with `chats`, those of them meant
    for that kind of chat ("direct" or "group"), greetings left out."""
    return [c.name for c in sorted((c for c in commands() if c.menu), key=lambda c: c.order)
            if chats is None or (c.chats in (chats, "both") and not c.greeting)]


def read(text: str) -> Said:
    """A cleaned line and the command it names, if any."""
    name, arg = parse_command(text)
    return Said(text, name, arg) if name is not None else Said(text)
