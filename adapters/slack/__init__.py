"""Slack for achtje: HTTP or Socket Mode, Block Kit, private check-ins, several workspaces."""

from adapters.slack.app import SlackAdapter, SlackSettingsError, build

__all__ = ["SlackAdapter", "SlackSettingsError", "build"]
