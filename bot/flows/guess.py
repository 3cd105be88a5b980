"""What a line that is no command probably meant: a question about the model ("wat is
gedeelde ambitie?") or a command typed with a slip ("chekin" -> "bedoelde je checkin?")."""

from __future__ import annotations

import re
from typing import Any

from bot import registry
from bot.flows import model
from bot.flows.state import Choosing
from bot.flows.turn import Turn
from bot.messages import Option, Reply

_QUESTION = re.compile(r"^(?:wat|what)\s+(?:is|zijn|are|betekent|means|does)\s+(.+)$",
                       re.IGNORECASE)
MAX_SLIPS = 2  # letters wrong, missing, extra or swapped
SHORTEST_GUESS = 4  # a shorter word is too easily a slip of many commands


async def ask_again(turn: Turn, choosing: Choosing, data: dict[str, Any]) -> list[Reply]:
    """A number typed for a menu that has no such option: name the range, offer it again."""
    keep = {key: value for key, value in data.items() if key != "options"}
    options = [Option(label, value) for label, value in choosing.options]
    return [turn.say("choice_out_of_range", most=len(options)),
            await turn.ask(turn.t("choice_again"), options, keep)]


async def guess(turn: Turn, text: str) -> list[Reply] | None:
    """The answer to a line no command or question took, or None when there is no guess."""
    asked = _QUESTION.match(text.strip())
    if asked:  # only a question about the model: "wat is het weer?" is not for us
        query = model.topic_words(asked.group(1))
        found = model.find_topic(turn, query) if query else None
        return [await model.answer(turn, *found)] if found is not None else None
    first, _, rest = text.strip().partition(" ")
    word = first.lstrip("/").lower()
    if len(word) < SHORTEST_GUESS or not word.isalpha():
        return None
    near = closest(word)
    if near is None:
        return None
    line = f"{near} {rest}".strip()
    return [await turn.ask(turn.t("did_you_mean", command=line),
                           [Option(turn.t("did_you_mean_yes"), f"cmd:{line}"),
                            Option(turn.t("did_you_mean_no"), "cmd:help")])]


def closest(word: str) -> str | None:
    """The one command name at most MAX_SLIPS edits from `word` (the nearest; none on a tie)."""
    scored = sorted((slips(word, name), name) for c in registry.commands() for name in c.names
                    if len(name) >= SHORTEST_GUESS)
    if not scored or scored[0][0] > MAX_SLIPS or scored[0][0] == 0:
        return None
    if len(scored) > 1 and scored[1][0] == scored[0][0] and \
            registry.find(scored[1][1]) is not registry.find(scored[0][1]):
        return None
    return scored[0][1]


def slips(a: str, b: str) -> int:
    """Edits between two words: a letter added, dropped, changed, or two swapped."""
    rows = [list(range(len(b) + 1))]
    for i, x in enumerate(a, 1):
        row = [i]
        for j, y in enumerate(b, 1):
            row.append(min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (x != y)))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]
