"""Who may create a partnership on this server with `setup` in chat (ACHTJE_SETUP).

`open` (the default): any unbound group or channel, as before. `closed`: only the chats
ACHTJE_SETUP_ALLOW lists; everyone else is told to ask the operator for a `koppel` code.
An entry is `PLATFORM:ID`: a whole Slack workspace is `slack:T0123` (every channel in it),
a Telegram group `telegram:-1001234567890`. Binding with a code (`koppel`) is not limited:
the operator made the code.
"""

from __future__ import annotations

from dataclasses import dataclass

MODES = ("open", "closed")


class SetupPolicyError(ValueError):
    """ACHTJE_SETUP or ACHTJE_SETUP_ALLOW cannot be read; the message says why."""


@dataclass(frozen=True)
class SetupPolicy:
    open: bool = True
    allowed: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def parse(cls, mode: str, allow: str = "") -> SetupPolicy:
        if mode not in MODES:
            raise SetupPolicyError(f"ACHTJE_SETUP must be {' or '.join(MODES)}, not {mode!r}")
        entries = set()
        for entry in filter(None, (part.strip() for part in allow.split(","))):
            platform, _, reference = entry.partition(":")
            if not platform or not reference:
                raise SetupPolicyError(f"ACHTJE_SETUP_ALLOW: {entry!r} must be PLATFORM:ID, "
                                       "for example slack:T0123 or telegram:-1001234567890")
            entries.add((platform, reference))
        return cls(open=mode == "open", allowed=frozenset(entries))

    def permits(self, platform: str, chat: str) -> bool:
        """Whether `setup` may create a partnership from this chat (a platform's chat id,
        a Slack one as TEAM:CHANNEL)."""
        return self.open or any(
            platform == allowed and (chat == reference or chat.startswith(f"{reference}:"))
            for allowed, reference in self.allowed)
