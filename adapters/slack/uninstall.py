"""A Slack workspace leaves or loses its token.

`app_uninstalled`: achtje was removed from the workspace, and nothing of it stays: its
members are erased, its channels unbound, its installation and tokens dropped, and a
partnership that had nobody else is removed (bot/privacy/offboard.py).

`tokens_revoked` naming the bot: the bot token no longer works, but the app is still
installed (an admin may have reset the token, and installs again for a new one), so only
the stored token goes; the data stays until the workspace uninstalls achtje or the operator
runs `achtje partnership remove`. Slack sends `tokens_revoked` with every uninstall too.

Either way one log line tells the operator what happened.
"""

from __future__ import annotations

import logging
from typing import Any

from adapters.slack.install import DatabaseInstallationStore
from adapters.slack.translate import PLATFORM
from bot.engine import Engine
from bot.privacy.offboard import erase_workspace

logger = logging.getLogger(__name__)


def concerns(event: dict[str, Any]) -> bool:
    """An uninstall, or revoked tokens that include the bot's (people's tokens achtje
    never keeps)."""
    if event.get("type") == "tokens_revoked":
        return bool((event.get("tokens") or {}).get("bot"))
    return event.get("type") == "app_uninstalled"


async def workspace_event(engine: Engine, installations: DatabaseInstallationStore | None,
                          event: dict[str, Any], team: str, enterprise_id: str | None,
                          team_id: str | None) -> None:
    """Handle an event `concerns` accepted, from the workspace `team` (its reference: the
    org for org-wide installs)."""
    if event.get("type") == "tokens_revoked":
        if installations is not None:  # as bolt keys them (an org install has no team)
            await installations.async_delete_installation(enterprise_id=enterprise_id,
                                                          team_id=team_id)
        logger.warning("the bot token of Slack workspace %s was revoked: achtje cannot write "
                       "there until it is %s; its partnerships and members stay", team,
                       "installed there again" if installations is not None
                       else "given a new SLACK_BOT_TOKEN")
        return
    async with engine.sessions() as session, session.begin():  # the installation too
        done = await erase_workspace(session, PLATFORM, team)
    logger.warning("achtje was removed from Slack workspace %s: %s members erased, %s "
                   "channels unbound, partnerships removed: %s; %s unsent messages and %s "
                   "installations dropped", team, done["members erased"],
                   done["channels unbound"],
                   ", ".join(map(str, done["partnerships removed"])) or "none",
                   done["unsent messages dropped"], done["installations dropped"])
    if installations is None:
        logger.warning("SLACK_BOT_TOKEN no longer works in Slack workspace %s", team)
