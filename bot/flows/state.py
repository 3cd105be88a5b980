"""A member's open question, as a typed model per flow.

The `conversation` row keeps the flow's name and a JSON `data`; the models here read and
write that JSON in the same shape as before they existed, so a question asked before an
upgrade is still answered after it. Reading is forgiving: data of another shape (a row
from an older version, a flow that is gone) reads as no such question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.flows.turn import match_option
from bot.store.models import Conversation

CHOICE = "choice"  # a question with buttons (`Turn.ask`), also answered by typing one
CHECKIN = "checkin"  # a check-in statement, answered with a score
FOLLOWUP = "followup"  # "what would help?" after a low score, answered with a sentence


@dataclass(frozen=True)
class Resume:
    """What a newcomer did before we had to ask the sign-up questions: a button pressed or
    a line typed; it is done once they are answered."""

    action: str | None = None
    text: str | None = None

    def to_json(self) -> dict[str, str]:
        return {"action": self.action} if self.action is not None else {"text": self.text or ""}

    @classmethod
    def of(cls, data: object) -> Resume | None:
        if isinstance(data, dict) and isinstance(data.get("action"), str):
            return cls(action=data["action"])
        if isinstance(data, dict) and isinstance(data.get("text"), str):
            return cls(text=data["text"])
        return None


@dataclass(frozen=True)
class Choosing:
    """Flow `choice` (written by `Turn.ask`): the options offered as (label, value), and
    what waits for the answer."""

    options: tuple[tuple[str, str], ...]
    resume: Resume | None = None

    def offers(self, value: str) -> bool:
        return any(offered == value for _, offered in self.options)

    def match(self, text: str) -> str | None:
        """The value of the option a typed answer names (its number or its label)."""
        return match_option(text, [list(option) for option in self.options])

    def stop(self) -> str | None:
        """The value of the menu's own Stop option (`...:stop`), if it has one."""
        return next((value for _, value in self.options if value.endswith(":stop")), None)

    @classmethod
    def of(cls, state: Conversation | None) -> Choosing | None:
        if state is None or state.flow != CHOICE:
            return None
        options = state.data.get("options", [])
        return cls(tuple((str(label), str(value)) for label, value in options),
                   Resume.of(state.data.get("resume")))


@dataclass(frozen=True)
class Statement:
    """Flows `checkin` and `followup`: which statement of which round is asked."""

    round_id: int
    statement_id: str

    def to_json(self) -> dict[str, Any]:
        return {"round_id": self.round_id, "statement_id": self.statement_id}

    @classmethod
    def of(cls, data: dict[str, Any]) -> Statement | None:
        round_id, statement_id = data.get("round_id"), data.get("statement_id")
        if isinstance(round_id, int) and isinstance(statement_id, str):
            return cls(round_id, statement_id)
        return None
