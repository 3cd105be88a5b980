"""The words of the domain, each defined once: the five conditions, the three levels of
"het achtje", the boards with statements of their own, school types, holiday regions and
the roles a member can have, and the languages achtje speaks. Content files, the store, the
dialogues and the command line all take them from here."""

from __future__ import annotations

from typing import Literal

CONDITION_IDS = ("ambition", "interests", "relations", "organisation", "process")
LEVEL_IDS = ("board", "management", "teachers")
BOARD = LEVEL_IDS[0]  # the school boards (bestuur)
DOMAIN_IDS = ("content", "anchoring")  # the boards with statements of their own
SCHOOL_TYPES = ("vmbo", "mbo", "other")

Region = Literal["noord", "midden", "zuid"]
REGIONS: tuple[Region, ...] = ("noord", "midden", "zuid")  # the school holiday regions

MEMBER, LEADER, ADMIN = "member", "leader", "admin"
ROLES = (MEMBER, LEADER, ADMIN)
LEADER_ROLES = frozenset({LEADER, ADMIN})  # project leaders and operators

Lang = Literal["nl", "en"]
LANGS: tuple[Lang, ...] = ("nl", "en")  # Dutch first: the default
