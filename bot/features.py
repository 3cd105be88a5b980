"""Every feature of the chat, in one list: importing this module runs their declarations
(`@command`, `@action`, `@text_flow`) into `bot.registry`. The engine imports it; a new
feature module is added here once."""

from __future__ import annotations

from types import ModuleType

from bot.flows import (
    binding,
    checkin,
    commands,
    dashboard,
    mail,
    members,
    model,
    onboarding,
    setup,
    snooze,
)
from bot.flows.instruments import common, figure_eight, matrix, poll, reflection, talk_plate
from bot.nudges import commands as nudge_commands
from bot.nudges import followup as nudge_followup
from bot.privacy import chat as privacy_chat
from bot.schedule import chat as schedule_chat
from bot.summary import command as summary_command

MODULES: tuple[ModuleType, ...] = (
    onboarding, commands, model, checkin, snooze, poll, common, reflection, figure_eight, matrix,
    talk_plate, nudge_commands, nudge_followup, privacy_chat, binding, setup, members,
    schedule_chat, summary_command, mail, dashboard,
)
