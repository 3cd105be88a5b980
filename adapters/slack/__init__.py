"""Slack for achtje: HTTP or Socket Mode, Block Kit, private check-ins, several workspaces.
`DESCRIPTION` is all the rest of achtje knows of it."""

from adapters.base import Platform
from adapters.slack.app import SlackAdapter, build
from adapters.slack.bolt_app import SlackSettingsError
from adapters.slack.translate import ref_problem

__all__ = ["DESCRIPTION", "SlackAdapter", "SlackSettingsError", "build"]

DESCRIPTION = Platform(
    name=SlackAdapter.platform,
    settings=("slack_bot_token", "slack_client_id"),
    limits=SlackAdapter.limits,
    invites_in_channel=SlackAdapter.invites_in_channel,
    build=build,
    check_ref=ref_problem,
)
