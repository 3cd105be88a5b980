"""The words of achtje, loaded from the data files in `content/` and checked on load.

Every user-visible sentence lives in those files, in Dutch and English. Loading validates
each file against the models below and reports the file and field of any mistake, so an
editor of the content gets a clear answer instead of a crash at the first message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.domain import CONDITION_IDS, DOMAIN_IDS

# libyaml's loader when PyYAML was built with it: content loads several times faster.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ContentError(Exception):
    """A content file is missing, unreadable or breaks the schema; the message names where."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


NonEmpty = Annotated[str, Field(min_length=1)]


class Text(_Model):
    """One sentence in both languages."""

    nl: NonEmpty
    en: NonEmpty

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.nl


class Statement(_Model):
    """A first-person statement a member scores from 1 (disagree) to 5 (agree), with the
    open question about what would help that is asked after a low score on it."""

    id: NonEmpty
    text: Text
    followup: Text


class Condition(_Model):
    id: Literal["ambition", "interests", "relations", "organisation", "process"]
    number: int = Field(ge=1, le=5)
    name: Text
    description: Text
    core_question: Text
    keywords: list[Text] = Field(min_length=2)
    statements: list[Statement] = Field(min_length=4)


class ContentArea(_Model):
    id: Literal["curriculum", "student", "teacher"]
    name: Text
    description: Text


class Domain(_Model):
    """One of the three boards every partnership works on at once."""

    id: Literal["content", "collaboration", "anchoring"]
    number: int = Field(ge=1, le=3)
    name: Text
    description: Text
    risk: Text
    areas: list[ContentArea] = []
    statements: list[Statement] = []


class Pitfall(_Model):
    id: NonEmpty
    number: int = Field(ge=1, le=5)
    condition: Literal["ambition", "interests", "relations", "organisation", "process"]
    name: Text
    looks_like: Text
    example: Text
    success_factors: list[Text] = Field(min_length=3)
    reflection_questions: list[Text] = Field(min_length=2, max_length=2)


class Complexity(_Model):
    id: NonEmpty
    name: Text
    description: Text
    what_helps: Text


class FigureEightLevel(_Model):
    id: Literal["board", "management", "teachers"]
    name: Text
    description: Text
    questions: list[Text] = Field(min_length=4)


class FigureEight(_Model):
    intro: Text
    closed_when: Text
    failures: list[Text] = Field(min_length=2)
    levels: list[FigureEightLevel] = Field(min_length=3, max_length=3)


class MatrixStep(_Model):
    id: NonEmpty
    number: int = Field(ge=1, le=7)
    name: Text
    question: Text
    hint: Text


class TalkPlateTopic(_Model):
    id: Literal["urgency", "ambition", "interests_collective", "interests_organisation",
                "interests_individual"]
    name: Text
    questions: list[Text] = Field(min_length=2)


class Idea(_Model):
    """A small informal thing two people from different schools can do together."""

    id: NonEmpty
    text: Text
    minutes: int = Field(ge=5, le=240)
    setting: Literal["same_building", "nearby", "remote", "any"]
    # Whom it suits: "any", or the levels (a classroom idea is for teachers only).
    levels: Literal["any"] | list[Literal["board", "management", "teachers"]] = Field(
        min_length=1)

    def suits(self, level: str | None) -> bool:
        """True for an idea for every level, and for someone whose level is not known."""
        return self.levels == "any" or not level or level in self.levels


class ScaleLabels(_Model):
    one: Text
    two: Text
    three: Text
    four: Text
    five: Text
    dont_know: Text
    skip: Text

    def score_labels(self) -> tuple[Text, ...]:
        return (self.one, self.two, self.three, self.four, self.five)


# One file per part of the content; each file holds a mapping with exactly this key.
_FILES: dict[str, str] = {
    "conditions": "conditions.yaml",
    "domains": "domains.yaml",
    "pitfalls": "pitfalls.yaml",
    "complexities": "complexities.yaml",
    "figure_eight": "figure_eight.yaml",
    "impact_matrix": "impact_matrix.yaml",
    "talk_plate": "talk_plate.yaml",
    "ideas": "ideas.yaml",
    "scale": "scale.yaml",
    "ui": "ui.yaml",
}

_PLACEHOLDER = re.compile(r"{(\w*)}")


class Content(_Model):
    conditions: list[Condition] = Field(min_length=5, max_length=5)
    domains: list[Domain] = Field(min_length=3, max_length=3)
    pitfalls: list[Pitfall] = Field(min_length=5, max_length=5)
    complexities: list[Complexity] = Field(min_length=4)
    figure_eight: FigureEight
    impact_matrix: list[MatrixStep] = Field(min_length=7, max_length=7)
    talk_plate: list[TalkPlateTopic] = Field(min_length=5)
    ideas: list[Idea] = Field(min_length=20)
    scale: ScaleLabels
    ui: dict[str, Text]
    # Where it was read from: content with its own loaders (the summary rules) is read there.
    _folder: Path | None = PrivateAttr(default=None)

    @property
    def folder(self) -> Path:
        return self._folder or default_dir()

    @field_validator("ui")
    @classmethod
    def _same_placeholders(cls, ui: dict[str, Text]) -> dict[str, Text]:
        for key, text in ui.items():
            nl, en = (set(_PLACEHOLDER.findall(text.nl)), set(_PLACEHOLDER.findall(text.en)))
            if nl != en:
                raise ValueError(f"{key}: nl uses {sorted(nl)} but en uses {sorted(en)}")
        return ui

    @model_validator(mode="after")
    def _consistent(self) -> Content:
        problems = list(self._cross_check())
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _cross_check(self) -> Iterator[str]:
        if sorted(c.id for c in self.conditions) != sorted(CONDITION_IDS):
            yield f"conditions: need exactly {', '.join(CONDITION_IDS)}"
        if sorted(p.condition for p in self.pitfalls) != sorted(CONDITION_IDS):
            yield "pitfalls: need one pitfall per condition"
        for domain in self.domains:
            if domain.id in DOMAIN_IDS and len(domain.statements) < 3:
                yield f"domains.{domain.id}.statements: need at least 3"
        if {a.id for d in self.domains for a in d.areas} != {"curriculum", "student", "teacher"}:
            yield "domains: the content areas curriculum, student and teacher are all needed"
        seen: set[str] = set()
        for statement in self.all_statements():
            if statement.id in seen:
                yield f"statement id {statement.id!r} is used twice"
            seen.add(statement.id)

    def all_statements(self) -> Iterator[Statement]:
        for condition in self.conditions:
            yield from condition.statements
        for domain in self.domains:
            yield from domain.statements

    @cached_property
    def _statement_topic(self) -> dict[str, str]:
        topics: dict[str, str] = {s.id: c.id for c in self.conditions for s in c.statements}
        topics.update({s.id: d.id for d in self.domains for s in d.statements})
        return topics

    @cached_property
    def _statements_by_id(self) -> dict[str, Statement]:
        return {s.id: s for s in self.all_statements()}

    def statement(self, statement_id: str) -> Statement:
        return self._statements_by_id[statement_id]

    def topic_of(self, statement_id: str) -> str:
        """The condition or domain id a statement measures."""
        return self._statement_topic[statement_id]

    def statements_for(self, topic: str) -> list[Statement]:
        """A topic's statements, its anchor first (the one its monthly score is on)."""
        for condition in self.conditions:
            if condition.id == topic:
                return condition.statements
        return self.domain(topic).statements

    def anchor(self, topic: str) -> str:
        """The id of a topic's anchor statement: the first of its pool, asked in every
        round that asks the topic, so that its monthly scores compare (docs/summary.md)."""
        return self.statements_for(topic)[0].id

    def condition(self, condition_id: str) -> Condition:
        return _by_id(self.conditions, condition_id)

    def domain(self, domain_id: str) -> Domain:
        return _by_id(self.domains, domain_id)

    def pitfall(self, pitfall_id: str) -> Pitfall:
        return _by_id(self.pitfalls, pitfall_id)

    def topic_name(self, topic: str, lang: str) -> str:
        if topic in CONDITION_IDS:
            return self.condition(topic).name.get(lang)
        return self.domain(topic).name.get(lang)

    def level_name(self, level: str, lang: str) -> str:
        return _by_id(self.figure_eight.levels, level).name.get(lang)

    def text(self, key: str, lang: str, **values: object) -> str:
        """A UI string by id, filled in; a missing id is a programming error.

        A number with a word that changes with it is written `{n} week|weken`: the word
        before the bar after a 1, the one after it otherwise ("1 week", "3 weken")."""
        template = self.ui[key].get(lang)
        if not values:
            return template
        return (_plurals(template, values) if "|" in template else template).format_map(values)

    def day(self, day: date, lang: str, *, year: bool = True) -> str:
        """A date as people write it, the month by name: "8 december 2026" ("8 december"
        without the `year`)."""
        if not year:
            return f"{day.day} {self.ui['month_names'].get(lang).split()[day.month - 1]}"
        return f"{day.day} {self.month_name(day, lang)}"

    def moment(self, when: datetime, lang: str, *, year: bool = True,
               weekday: Literal["long", "short", "none"] = "long") -> str:
        """A date and time, the month in words so no reader swaps day and month (`when` as
        the reader's clock shows it). "long" reads in a sentence: "woensdag 25 november
        2026 om 08:00"; "short" fits a table's column: "wo 25 november 2026 08:00"; "none":
        "25 november 2026 08:00". Without the `year`: "woensdag 25 november om 08:00"."""
        day, time = self.day(when.date(), lang, year=year), f"{when:%H:%M}"
        name = self.text(f"sched_weekday_{when.weekday()}", lang)
        if weekday == "long":
            return self.text("moment", lang, weekday=name, day=day, time=time)
        return f"{name[:2]} {day} {time}" if weekday == "short" else f"{day} {time}"

    def month_name(self, month: date, lang: str) -> str:
        """A month as people write it: "november 2026" ("November 2026" in English)."""
        return f"{self.ui['month_names'].get(lang).split()[month.month - 1]} {month.year}"

    def decimal(self, value: float, lang: str, digits: int = 1) -> str:
        """A number with a decimal comma in Dutch and a point in English: "3,7"."""
        shown = f"{value:.{digits}f}"
        return shown if lang == "en" else shown.replace(".", ",")


_PLURAL = re.compile(r"{(\w+)} ((?:[\w-]+ ){0,2})(\w[\w-]*)\|(\w[\w-]*)")


def _plurals(template: str, values: dict[str, object]) -> str:
    """`{n} week|weken` -> `{n} week` when n is 1, else `{n} weken`; up to two words may
    stand between ("{n} korte vraag|vragen", "{n} more vote|votes")."""

    def pick(match: re.Match[str]) -> str:
        name, between, one, more = match.groups()
        return f"{{{name}}} {between}{one if values.get(name) == 1 else more}"

    return _PLURAL.sub(pick, template)


_Identified = TypeVar("_Identified", Condition, Domain, Pitfall, FigureEightLevel)


def _by_id(items: list[_Identified], item_id: str) -> _Identified:
    for item in items:
        if item.id == item_id:
            return item
    raise KeyError(item_id)


def default_dir() -> Path:
    return Path(str(resources.files("content")))


def load_content(directory: Path | None = None) -> Content:
    """Read and validate every content file; raise ContentError naming file and field."""
    directory = directory or default_dir()
    raw = {key: read_yaml_key(directory / filename, key) for key, filename in _FILES.items()}
    # UI strings may be split over ui_<part>.yaml files next to ui.yaml, one per feature.
    for path in sorted(directory.glob("ui_*.yaml")):
        extra = read_yaml_key(path, "ui")
        if not isinstance(extra, dict) or not isinstance(raw["ui"], dict):
            raise ContentError(f"{path}: ui must be a mapping of ids to texts")
        if twice := sorted(set(extra) & set(raw["ui"])):
            raise ContentError(f"{path}: ui ids defined in another file too: {', '.join(twice)}")
        raw["ui"] = {**raw["ui"], **extra}
    try:
        content = Content.model_validate(raw)
    except ValidationError as exc:
        raise ContentError(_describe(exc, directory)) from exc
    content._folder = directory
    return content


def read_yaml_key(path: Path, key: str) -> Any:
    """The value under `key` of a YAML mapping file; ContentError names what is wrong."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except FileNotFoundError as exc:
        raise ContentError(f"{path}: file is missing") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(f"{path}: cannot be read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or key not in data:
        raise ContentError(f"{path}: expected a mapping with the key {key!r}")
    return data[key]


def _describe(exc: ValidationError, directory: Path) -> str:
    lines = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        filename = _FILES.get(loc[0], "") if loc else ""
        where = directory / filename if filename else directory
        field = ".".join(loc) or "(whole content)"
        lines.append(f"{where}: {field}: {error['msg']}")
    return "\n".join(lines)
