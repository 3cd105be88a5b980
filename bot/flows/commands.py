"""The small commands: help, pitfalls, pause and language."""

from __future__ import annotations

from datetime import timedelta

from bot import registry
from bot.flows.onboarding import language_options, set_language
from bot.flows.roles import is_board, is_leader
from bot.flows.turn import Turn
from bot.messages import Option, Reply, Text
from bot.store import repo

PAUSE_CHOICES = (1, 2, 4, 8)
MAX_PAUSE_WEEKS = 26
_RESUME_WORDS = {"uit", "off", "stop", "einde", "end", "hervat", "resume"}
_LANGUAGE_WORDS = {"nl": "nl", "nederlands": "nl", "dutch": "nl",
                   "en": "en", "engels": "en", "english": "en"}


@registry.command("help", "hulp", "menu", before_onboarding=True, menu=True, order=2,
                  chats="both")
async def help_(turn: Turn, _arg: str) -> list[Reply]:
    """What anyone can type, and what project leaders or board members can besides: one
    line per command that has one (`command_<name>` in content/), in the registry's order."""
    parts = [("help", registry.in_help())]
    if is_leader(turn.member):
        parts.append(("help_leaders", registry.in_help(leaders=True)))
    elif is_board(turn.member):
        parts.append(("help_board", registry.in_help(board=True)))
    return [Text(text="\n\n".join(
        "\n".join([turn.t(key, partnership=turn.partnership.name),
                   *(f"- {turn.t(f'command_{c.name}')}" for c in listed)])
        for key, listed in parts))]


@registry.command("start", "hoi", "hallo", "hi", "hello", greeting=True, menu=True, order=1)
async def start(turn: Turn, arg: str) -> list[Reply]:
    """A greeting: help for a member (a newcomer gets the sign-up questions first)."""
    return await help_(turn, arg)


async def pitfalls(turn: Turn, arg: str) -> list[Reply]:
    """The five pitfalls to pick from; `valkuilen 3` opens the third at once."""
    if arg.isdigit() and 1 <= int(arg) <= len(turn.content.pitfalls):
        return [show_pitfall(turn, turn.content.pitfalls[int(arg) - 1].id)]
    options = [Option(p.name.get(turn.lang), f"pitfall:{p.id}") for p in turn.content.pitfalls]
    return [await turn.ask(turn.t("pitfalls_pick"), options)]


@registry.action("pitfall")  # pitfall:<pitfall id>
async def act_pitfall(turn: Turn, parts: list[str]) -> list[Reply]:
    await repo.clear_conversation(turn.session, turn.member.id)
    return [show_pitfall(turn, turn.content.pitfall(parts[0]).id)]


def show_pitfall(turn: Turn, pitfall_id: str) -> Reply:
    lang = turn.lang
    pitfall = turn.content.pitfall(pitfall_id)
    condition = turn.content.condition(pitfall.condition)
    return Text(text=turn.t(
        "pitfall_detail",
        number=pitfall.number,
        name=pitfall.name.get(lang),
        condition=condition.name.get(lang),
        looks_like=pitfall.looks_like.get(lang),
        example=pitfall.example.get(lang),
        success_factors="\n".join(f"- {f.get(lang)}" for f in pitfall.success_factors),
        questions="\n".join(f"- {q.get(lang)}" for q in pitfall.reflection_questions),
    ))


@registry.command("pauze", "pause", help=True, menu=True, order=7)
async def pause(turn: Turn, arg: str) -> list[Reply]:
    """`pauze` asks how long; `pauze 3` pauses three weeks; `pauze uit` resumes."""
    if arg in _RESUME_WORDS:
        return set_pause(turn, 0)
    if arg.isdigit():
        return set_pause(turn, int(arg))
    options = [Option(turn.t("pause_weeks", weeks=w), f"pause:{w}") for w in PAUSE_CHOICES]
    if _paused(turn):
        options.append(Option(turn.t("pause_resume"), "pause:0"))
    return [await turn.ask(turn.t("pause_pick"), options)]


@registry.action("pause")  # pause:<weeks>
async def act_pause(turn: Turn, parts: list[str]) -> list[Reply]:
    await repo.clear_conversation(turn.session, turn.member.id)
    return set_pause(turn, int(parts[0]))


def _paused(turn: Turn) -> bool:
    """Whether a pause still lasts today: only then is ending it a welcome back."""
    until = turn.member.paused_until
    return until is not None and until > turn.local_today()


def set_pause(turn: Turn, weeks: int) -> list[Reply]:
    if weeks == 0:
        was_paused = _paused(turn)
        turn.member.paused_until = None
        return [turn.say("pause_ended" if was_paused else "pause_not_paused")]
    if not 1 <= weeks <= MAX_PAUSE_WEEKS:
        return [turn.say("pause_invalid", most=MAX_PAUSE_WEEKS)]
    until = turn.local_today() + timedelta(weeks=weeks)
    turn.member.paused_until = until
    return [turn.say("pause_set", until=turn.content.day(until, turn.lang))]


@registry.command("taal", "language", "lang", before_onboarding=True, help=True, menu=True, order=8)
async def language(turn: Turn, arg: str) -> list[Reply]:
    if arg in _LANGUAGE_WORDS:
        return set_language(turn, _LANGUAGE_WORDS[arg])
    return [await turn.ask(turn.t("ask_language"), language_options(turn))]

