"""Checks of the words in `content/` that a schema cannot make (`achtje content check`).

- A counted word has both forms: `{count} deelnemer|deelnemers`, never `{count} deelnemers`,
  which reads "1 deelnemers" for one person (`Content.text` picks the form).
- Dutch writes a decimal comma: "3,7", never "3.7".
- No run of ten words is taken over from a source text (when a folder of them is given):
  the model carries over from the sources, their sentences do not.

The plural check knows which placeholders hold a count (`COUNTED`) and what a plural looks
like; it is a careful reader's rule of thumb, so a word it misreads can be named in
`NOT_PLURAL`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from bot.content import Content, Text
from bot.domain import LANGS

# Placeholders that always hold a number of things.
COUNTED = frozenset({
    "count", "minimum", "weeks", "total", "hours", "days", "text_months", "answer_months",
    "most", "minutes", "members", "invited", "groups", "rounds", "parts", "done",
    "respondents", "met", "answered", "paused", "busy", "limit", "schools", "people",
})
# Words that follow a count without being a plural noun.
NOT_PLURAL = frozenset({
    "en", "van", "tegen", "tussen", "is", "was", "has", "as", "plus", "minus", "less",
    "procent", "percent", "keer", "times", "uur", "per", "t", "tot", "to", "since", "of",
})
IRREGULAR_PLURALS = frozenset({"people", "children", "men", "women"})
RUN = 10  # words in a row shared with a source that count as taken over

_COUNT = re.compile(r"{(\w+)}((?: +[\w'|-]+){1,2})")
_DECIMAL_POINT = re.compile(r"\d\.\d")
_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")


def plural_mistakes(content: Content) -> Iterator[str]:
    """`ui.<id>.<lang>: ...` for each count followed by a plural written without the
    singular beside it."""
    for key, text in sorted(content.ui.items()):
        for lang in LANGS:
            for match in _COUNT.finditer(text.get(lang)):
                name, words = match.group(1), match.group(2).split()
                if name in COUNTED and "|" not in match.group(2) and _plural(words, lang):
                    yield (f"ui.{key}.{lang}: '{match.group(0).strip()}' needs both forms, "
                           f"as in '{{{name}}} week|weken'")


def _plural(words: list[str], lang: str) -> bool:
    """Whether the noun after a count reads as a plural: the first word, or in Dutch the
    second one after an adjective ("korte vragen"), in English either ("pairing rounds")."""
    first, *rest = [w.lower() for w in words]
    if _looks_plural(first, lang):
        return True
    if not rest or first in NOT_PLURAL:
        return False
    if lang == "nl" and not first.endswith("e"):
        return False
    return _looks_plural(rest[0], lang)


def _looks_plural(word: str, lang: str) -> bool:
    if word in NOT_PLURAL or len(word) < 3:
        return False
    if word in IRREGULAR_PLURALS:
        return True
    if lang == "nl":
        return word.endswith(("en", "s"))
    return word.endswith("s") and not word.endswith("ss")


def decimal_mistakes(content: Content) -> Iterator[str]:
    """Dutch texts that write a number with a decimal point."""
    for where, text in texts(content):
        if _DECIMAL_POINT.search(text.nl):
            yield f"{where}.nl: a decimal point in Dutch, write a comma: {text.nl!r}"


def source_runs(content: Content, sources: Path) -> Iterator[str]:
    """Each text that shares `RUN` words in a row with a `.txt` file in `sources`."""
    taken = set()
    for path in sorted(sources.glob("*.txt")):
        taken |= _runs(path.read_text(encoding="utf-8", errors="replace"))
    for where, text in texts(content):
        for lang in LANGS:
            shared = _runs(text.get(lang)) & taken
            if shared:
                yield f"{where}.{lang}: {RUN} words in a row from a source: {min(shared)!r}"


def _runs(text: str) -> set[str]:
    words = [w.lower() for w in _WORD.findall(text)]
    return {" ".join(words[n:n + RUN]) for n in range(len(words) - RUN + 1)}


def texts(content: Content) -> Iterator[tuple[str, Text]]:
    """Every text of the content with where it lives, as `conditions.0.description`."""
    yield from _walk(content, "")


def _walk(value: object, where: str) -> Iterator[tuple[str, Text]]:
    if isinstance(value, Text):
        yield where, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name), f"{where}.{name}" if where else name)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{where}.{key}")
    elif isinstance(value, list):
        for number, item in enumerate(value):
            yield from _walk(item, f"{where}.{number}")


def wording_mistakes(content: Content, sources: Path | None = None) -> list[str]:
    """Everything the checks above find; sources only when the folder is there."""
    found = [*plural_mistakes(content), *decimal_mistakes(content)]
    if sources is not None and sources.is_dir():
        found += source_runs(content, sources)
    return found
