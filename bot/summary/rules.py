"""The editable parts of a monthly summary: the pitfall signal rules and the agenda questions.

Both live in `content/` (`summary_rules.yaml`, `summary_agenda.yaml`) so that a programme
team can tune when a pitfall is signalled, and what is asked, without touching code. They
are checked on load against the models below and against the pitfalls in the main content;
a mistake raises `ContentError` naming the file and the field.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.content import Content, ContentError, Text, read_yaml_key
from bot.domain import CONDITION_IDS

RULES_FILE = "summary_rules.yaml"
AGENDA_FILE = "summary_agenda.yaml"

ConditionId = Literal["ambition", "interests", "relations", "organisation", "process"]
Signal = Literal["low", "falling", "school_gap", "level_gap", "few_informal"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Thresholds(_Model):
    """The numbers the signals compare against; means are on the 1-5 scale."""

    low: float = Field(ge=1, le=5)
    falling: float = Field(gt=0, le=4)
    school_gap: float = Field(gt=0, le=4)
    level_gap: float = Field(gt=0, le=4)
    notable_gap: float = Field(gt=0, le=4)
    trend_step: float = Field(gt=0, le=4)
    few_informal: float = Field(ge=0, le=1)


class Trigger(_Model):
    """One signal that points to a pitfall; every signal but few_informal names a condition."""

    signal: Signal
    condition: ConditionId | None = None

    @model_validator(mode="after")
    def _condition_fits_signal(self) -> Trigger:
        if self.signal == "few_informal" and self.condition is not None:
            raise ValueError("few_informal takes no condition")
        if self.signal != "few_informal" and self.condition is None:
            raise ValueError(f"{self.signal} needs a condition")
        return self


class PitfallRule(_Model):
    pitfall: str = Field(min_length=1)
    when: list[Trigger] = Field(min_length=1)


class SignalRules(_Model):
    thresholds: Thresholds
    pitfalls: list[PitfallRule]


class Agenda(_Model):
    """Conversation questions per condition, per pitfall, and general ones to fill up with."""

    conditions: dict[ConditionId, Text]
    pitfalls: dict[str, Text]
    general: list[Text] = Field(min_length=3)

    def question(self, source: str, ref: str) -> Text:
        """The question an `AgendaQuestion` names: a condition's, a pitfall's, or general
        question number `ref`."""
        if source == "condition":
            return self.conditions[ref]  # type: ignore[index]
        if source == "pitfall":
            return self.pitfalls[ref]
        return self.general[int(ref)]


class SummaryRules(_Model):
    """Everything a summary takes from its two content files."""

    signals: SignalRules
    agenda: Agenda

    @property
    def thresholds(self) -> Thresholds:
        return self.signals.thresholds


def load_summary_rules(content: Content, directory: Path | None = None) -> SummaryRules:
    """Read and check both files in `directory`, by default the folder `content` was loaded
    from (`ACHTJE_CONTENT_DIR` or the shipped content), so every caller uses the same rules.

    The files are read once per directory and process; the check against the pitfalls of
    `content` runs on every call, since a deployment may pair them with its own content.
    """
    directory = directory or content.folder
    rules_path, agenda_path = directory / RULES_FILE, directory / AGENDA_FILE
    signals, agenda = _parsed(directory)
    pitfall_ids = [p.id for p in content.pitfalls]
    known = ", ".join(pitfall_ids)
    problems = [
        f"{rules_path}: pitfalls.{n}.pitfall: unknown pitfall {rule.pitfall!r} (known: {known})"
        for n, rule in enumerate(signals.pitfalls) if rule.pitfall not in pitfall_ids
    ]
    problems += [f"{agenda_path}: pitfalls.{key}: unknown pitfall (known: {known})"
                 for key in agenda.pitfalls if key not in pitfall_ids]
    problems += [f"{agenda_path}: pitfalls.{key}: a question is missing"
                 for key in pitfall_ids if key not in agenda.pitfalls]
    problems += [f"{agenda_path}: conditions.{key}: a question is missing"
                 for key in CONDITION_IDS if key not in agenda.conditions]
    if problems:
        raise ContentError("\n".join(problems))
    return SummaryRules(signals=signals, agenda=agenda)


@lru_cache(maxsize=8)
def _parsed(directory: Path) -> tuple[SignalRules, Agenda]:
    return (_validated(SignalRules, directory / RULES_FILE, "summary_rules"),
            _validated(Agenda, directory / AGENDA_FILE, "agenda"))


M = TypeVar("M", SignalRules, Agenda)


def _validated(model: type[M], path: Path, key: str) -> M:
    data = read_yaml_key(path, key)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ContentError("\n".join(
            f"{path}: {'.'.join(str(part) for part in error['loc']) or key}: {error['msg']}"
            for error in exc.errors()
        )) from exc
