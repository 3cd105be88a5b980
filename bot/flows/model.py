"""The model behind achtje, asked for in chat: the five conditions, the three boards with
their content areas, and the four complexities (`uitleg`, `voorwaarden`, `borden`,
`complexiteit`). The words of the model are in content/; this module only picks them."""

from __future__ import annotations

import re

from bot import registry
from bot.content import ContentArea, Domain
from bot.flows.turn import Turn
from bot.messages import Option, Reply, Text
from bot.store import repo

# Words around a question that are not the thing asked about: "wat is gedeelde ambitie?".
_FILLER = {"is", "zijn", "de", "het", "een", "betekent", "bedoel", "je", "met", "are", "the",
           "a", "an", "does", "mean", "by", "you", "?"}
LISTINGS = ("conditions", "boards", "complexities")
SHORTEST_WORD = 5  # a word of a name that finds it alone ("ambitie", "inhoud")


@registry.command("uitleg", "explain", help=True, order=12)
async def explain(turn: Turn, arg: str) -> list[Reply]:
    """`uitleg` offers the three parts of the model; `uitleg ambitie` (or `wat is gedeelde
    ambitie?`) explains the one it names."""
    query = topic_words(arg)
    if not query:
        return [await turn.ask(turn.t("model_pick"), [
            Option(turn.t("model_conditions"), "model:conditions"),
            Option(turn.t("model_boards"), "model:boards"),
            Option(turn.t("model_complexities"), "model:complexities")])]
    found = find_topic(turn, query)
    if found is None:
        names = [c.name.get(turn.lang).lower() for c in turn.content.conditions]
        names += [d.name.get(turn.lang).lower() for d in turn.content.domains]
        return [turn.say("model_unknown", names=", ".join(names))]
    return [await answer(turn, *found)]


def topic_words(typed: str) -> str:
    """The words of a question that name its topic: "is gedeelde ambitie?" -> "gedeelde
    ambitie"."""
    return " ".join(w for w in typed.lower().strip(" ?!.").split() if w not in _FILLER)


def find_topic(turn: Turn, query: str) -> tuple[str, str] | None:
    """The (kind, id) a few typed words name: a condition, board, content area or
    complexity, by its name in either language, its id or one long word of its name."""
    content, query = turn.content, query.lower()
    named: list[tuple[str, str, list[str]]] = [
        ("condition", c.id, [c.id, c.name.nl, c.name.en]) for c in content.conditions]
    named += [("board", d.id, [d.id, d.name.nl, d.name.en]) for d in content.domains]
    named += [("area", a.id, [a.id, a.name.nl, a.name.en])
              for d in content.domains for a in d.areas]
    named += [("complexity", c.id, [c.name.nl, c.name.en]) for c in content.complexities]
    words = {"voorwaarden": "conditions", "voorwaarde": "conditions", "conditions": "conditions",
             "borden": "boards", "bord": "boards", "boards": "boards",
             "complexiteit": "complexities", "complexiteiten": "complexities",
             "complexity": "complexities", "complexities": "complexities"}
    if query in words:
        return (words[query], "")
    for kind, topic, names in named:
        if query in (n.lower() for n in names):
            return (kind, topic)
    for kind, topic, names in named:
        if any(query == w or (len(w) >= SHORTEST_WORD and w.startswith(query)
                              and len(query) >= SHORTEST_WORD)
               for n in names for w in n.lower().split()):
            return (kind, topic)
    return None


@registry.command("voorwaarden", "voorwaarde", "conditions", "condition")
async def conditions(turn: Turn, arg: str) -> list[Reply]:
    """The five conditions with their core questions; `voorwaarden 2` or a name opens one."""
    return await _list_or_one(turn, arg, "conditions", [c.id for c in turn.content.conditions])


@registry.command("borden", "bord", "boards", "board")
async def boards(turn: Turn, arg: str) -> list[Reply]:
    """The three boards and what each carries; `borden 1` opens one."""
    return await _list_or_one(turn, arg, "boards", [d.id for d in turn.content.domains])


@registry.command("complexiteit", "complexiteiten", "complexity", "complexities")
async def complexities(turn: Turn, arg: str) -> list[Reply]:
    """The four complexities; `complexiteit 2` opens one with what helps."""
    return await _list_or_one(turn, arg, "complexities",
                              [c.id for c in turn.content.complexities])


async def _list_or_one(turn: Turn, arg: str, kind: str, ids: list[str]) -> list[Reply]:
    one = {"conditions": "condition", "boards": "board", "complexities": "complexity"}[kind]
    if arg.isdigit():
        if 1 <= int(arg) <= len(ids):
            return [show(turn, one, ids[int(arg) - 1])]
        return [turn.say("model_out_of_range", most=len(ids)), await listing(turn, kind)]
    if arg and (found := find_topic(turn, arg)) is not None:
        return [await answer(turn, *found)]
    return [await listing(turn, kind)]


@registry.action("model")  # model:<conditions|boards|complexities> or model:<kind>:<id>
async def act_model(turn: Turn, parts: list[str]) -> list[Reply]:
    await repo.clear_conversation(turn.session, turn.member.id)
    return [await answer(turn, parts[0], parts[1] if len(parts) > 1 else "")]


async def answer(turn: Turn, kind: str, topic: str) -> Reply:
    """A listing (`conditions`, `boards`, `complexities`) or one item of a kind."""
    if kind in LISTINGS:
        return await listing(turn, kind)
    return show(turn, kind, topic)


def first_sentence(text: str) -> str:
    """The first sentence of a description, for a one-line listing."""
    match = re.match(r".+?[.?!](?=\s|$)", text)
    return match.group(0) if match else text


def show(turn: Turn, kind: str, topic: str) -> Reply:
    """One part of the model in a few chat-sized lines (a listing has buttons)."""
    lang, content = turn.lang, turn.content
    if kind == "condition":
        c = content.condition(topic)
        pitfall = next(p for p in content.pitfalls if p.condition == c.id)
        return turn.say("condition_detail", number=c.number, name=c.name.get(lang),
                        description=c.description.get(lang),
                        question=c.core_question.get(lang), pitfall=pitfall.number)
    if kind == "board":
        d = content.domain(topic)
        text = turn.t("board_detail", number=d.number, name=d.name.get(lang),
                      description=d.description.get(lang), risk=d.risk.get(lang))
        if d.areas:
            text += "\n\n" + turn.t("board_areas", lines="\n".join(
                f"- {a.name.get(lang)}: {a.description.get(lang)}" for a in d.areas))
        elif d.id == "collaboration":
            text += "\n\n" + turn.t("board_conditions")
        return Text(text=text)
    if kind == "area":
        d, a = _area(turn, topic)
        return turn.say("area_detail", name=a.name.get(lang), number=d.number,
                        board=d.name.get(lang), description=a.description.get(lang))
    if kind == "complexity":
        x = next((x for x in content.complexities if x.id == topic), None)
        if x is None:
            raise KeyError(topic)
        return turn.say("complexity_detail", name=x.name.get(lang),
                        description=x.description.get(lang), helps=x.what_helps.get(lang))
    raise KeyError(kind)


def _area(turn: Turn, topic: str) -> tuple[Domain, ContentArea]:
    for domain in turn.content.domains:
        for area in domain.areas:
            if area.id == topic:
                return domain, area
    raise KeyError(topic)


async def listing(turn: Turn, kind: str) -> Reply:
    """A part of the model as a numbered list, each item a button that opens it."""
    lang, content = turn.lang, turn.content
    if kind == "conditions":
        items: list[tuple[str, str, str]] = [
            (c.id, c.name.get(lang), c.core_question.get(lang)) for c in content.conditions]
        one = "condition"
    elif kind == "boards":
        items = [(d.id, d.name.get(lang), first_sentence(d.description.get(lang)))
                 for d in content.domains]
        one = "board"
    else:
        items = [(x.id, x.name.get(lang), "") for x in content.complexities]
        one = "complexity"
    lines = "\n".join(f"{i}. {name}" + (f": {line}" if line else "")
                      for i, (_, name, line) in enumerate(items, 1))
    return await turn.ask(turn.t(f"{kind}_list", lines=lines),
                          [Option(name, f"model:{one}:{topic}") for topic, name, _ in items])
