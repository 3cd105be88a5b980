"""Every platform achtje can run on, listed once: the composition root (bot/service.py,
bot/cli.py) reads this list and nothing else names a platform.

Adding a platform: a package under adapters/ whose `__init__` exports a `DESCRIPTION`
(`adapters.base.Platform`), its settings in bot/settings.py, and one line here.
"""

from __future__ import annotations

from adapters import email, slack, teams, telegram
from adapters.base import Platform
from adapters.console import ConsoleChat
from bot.rates import PlatformLimits
from bot.settings import Settings

PLATFORMS: tuple[Platform, ...] = (slack.DESCRIPTION, telegram.DESCRIPTION, teams.DESCRIPTION,
                                   email.DESCRIPTION)


def configured(settings: Settings) -> list[Platform]:
    """The platforms whose settings are set, in the order of `PLATFORMS`."""
    return [platform for platform in PLATFORMS if platform.configured(settings)]


def names() -> tuple[str, ...]:
    """Every platform a channel or member may be on, the terminal chat included."""
    return (*(platform.name for platform in PLATFORMS), ConsoleChat.platform)


def limits() -> dict[str, PlatformLimits]:
    """Each platform's rate limits, by name."""
    return {platform.name: platform.limits for platform in PLATFORMS}


def ref_problem(platform: str, kind: str, reference: str) -> str | None:
    """Why `reference` cannot be a `user` or `channel` id on `platform`, or None (an
    unknown platform's ids are not checked here)."""
    for described in PLATFORMS:
        if described.name == platform:
            return described.check_ref(kind, reference)
    return None
