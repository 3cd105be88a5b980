"""A Slack workspace leaves: it removes achtje (`app_uninstalled`) or revokes the bot's
token (`tokens_revoked` naming a bot). Nothing of the workspace stays: its members are
erased, its channels unbound, its installation and tokens dropped, and a partnership that
had nobody else is removed (bot/privacy/offboard.py). The operator reads it in the log."""

from __future__ import annotations

import logging
from typing import Any

from adapters.slack.install import DatabaseInstallationStore
from adapters.slack.translate import PLATFORM
from bot.engine import Engine
from bot.privacy.offboard import erase_workspace

logger = logging.getLogger(__name__)


def leaves(event: dict[str, Any]) -> bool:
    """Whether the event means achtje can no longer act in the workspace: an uninstall, or
    revoked tokens that include the bot's (people's tokens achtje never keeps)."""
    if event.get("type") == "tokens_revoked":
        return bool((event.get("tokens") or {}).get("bot"))
    return event.get("type") == "app_uninstalled"


async def workspace_left(engine: Engine, installations: DatabaseInstallationStore | None,
                         team: str, enterprise_id: str | None, team_id: str | None,
                         why: str) -> None:
    """Erase everything of the workspace `team` (its reference: the org for org installs)."""
    async with engine.sessions() as session, session.begin():
        done = await erase_workspace(session, PLATFORM, team)
    if installations is not None:  # as bolt keys them (an org install has no team)
        await installations.async_delete_installation(enterprise_id=enterprise_id,
                                                      team_id=team_id)
    logger.warning("achtje was removed from Slack workspace %s (%s): %s erased, %s channels "
                   "unbound, partnerships removed: %s", team, why, done["members erased"],
                   done["channels unbound"],
                   ", ".join(map(str, done["partnerships removed"])) or "none")
    if installations is None:
        logger.warning("SLACK_BOT_TOKEN no longer works in Slack workspace %s", team)
