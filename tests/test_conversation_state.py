"""The typed models of a member's open question read the JSON the `conversation` row has
always held, so a question asked before an upgrade is answered after it."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.flows.state import CHECKIN, CHOICE, Choosing, Resume, Statement
from bot.store.models import Conversation

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def row(flow: str, data: dict[str, object]) -> Conversation:
    return Conversation(member_id=1, flow=flow, step="", data=data, updated_at=NOW)


def test_a_choice_reads_its_options_and_what_waits_for_it() -> None:
    stored = row(CHOICE, {"options": [["Vmbo De Brug", "school:1"], ["Kompas", "school:2"]],
                          "resume": {"action": "cmd:checkin"}})
    asked = Choosing.of(stored)
    assert asked is not None
    assert asked.offers("school:2") and not asked.offers("school:3")
    assert asked.match("2") == asked.match("kompas") == "school:2"
    assert asked.match("3") is None
    assert asked.resume == Resume(action="cmd:checkin")
    typed = Choosing.of(row(CHOICE, {"options": [], "resume": {"text": "valkuilen 3"}}))
    assert typed is not None and typed.resume == Resume(text="valkuilen 3")
    assert Choosing.of(row(CHOICE, {"options": [["Ja", "lm:4:yes"]], "nudge_group": 7}))
    assert Choosing.of(row(CHECKIN, {"round_id": 1, "statement_id": "c1_s1"})) is None
    assert Choosing.of(None) is None


def test_what_waits_is_written_as_it_always_was() -> None:
    assert Resume(action="pv:3:1").to_json() == {"action": "pv:3:1"}
    assert Resume(text="taal").to_json() == {"text": "taal"}
    assert Resume.of({"action": "pv:3:1"}) == Resume(action="pv:3:1")
    assert Resume.of({"elsewhere": 1}) is None and Resume.of(None) is None


def test_a_statement_asked_reads_back_or_reads_as_none() -> None:
    asked = Statement(12, "c3_s2")
    assert asked.to_json() == {"round_id": 12, "statement_id": "c3_s2"}
    assert Statement.of(asked.to_json()) == asked
    assert Statement.of({"round_id": "12", "statement_id": "c3_s2"}) is None
    assert Statement.of({}) is None
