"""The Home tab: a member's own settings and the open check-in, with buttons to act.

The buttons carry the same `cmd:` actions the engine knows, so pressing one is handled
exactly like typing the command in the DM.
"""

from __future__ import annotations

from typing import Any

from adapters.slack.render import BUTTON_PREFIX, Block, escape, sections
from bot.content import LEVEL_IDS, Content
from bot.profile import MemberProfile

_COMMANDS = (("slack_home_checkin", "cmd:checkin"), ("slack_home_pitfalls", "cmd:valkuilen"),
             ("slack_home_pause_button", "cmd:pauze"),
             ("slack_home_language_button", "cmd:taal"), ("slack_home_privacy", "cmd:privacy"))


def home_view(content: Content, profile: MemberProfile | None, lang: str) -> dict[str, Any]:
    """The Home tab of a member, or a welcome with one button for someone new."""
    if profile is None or not profile.onboarded:
        welcome = [*sections(content.text("slack_home_newcomer", lang)),
                   _actions([(content.text("slack_home_start", lang), "cmd:hoi")])]
        return {"type": "home", "blocks": welcome}
    lang = profile.language

    def t(key: str, **values: object) -> str:
        return content.text(key, lang, **values)

    not_set = t("slack_home_not_set")
    level = content.level_name(profile.level, lang) if profile.level in LEVEL_IDS else not_set
    pause = (t("slack_home_paused_until", until=profile.paused_until.strftime("%d-%m-%Y"))
             if profile.paused_until else t("slack_home_not_paused"))
    fields = [(t("slack_home_school"), profile.school or not_set),
              (t("slack_home_level"), level),
              (t("slack_home_language"), t(f"language_{profile.language}")),
              (t("slack_home_pause"), pause)]
    progress = profile.open_round
    status = (t("slack_home_round_open", number=progress.number,
                closes=progress.closes_at.strftime("%d-%m-%Y %H:%M"),
                answered=progress.answered, total=progress.total)
              if progress else t("slack_home_round_none"))
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "emoji": True,
                                    "text": t("slack_home_title",
                                              partnership=profile.partnership)[:150]}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{escape(name)}*\n{escape(value)}"[:2000]}
            for name, value in fields
        ]},
        *sections(status),
        _actions([(t(key), action) for key, action in _COMMANDS]),
    ]
    return {"type": "home", "blocks": blocks}


def _actions(buttons: list[tuple[str, str]]) -> Block:
    return {"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": label[:75], "emoji": True},
         "value": value, "action_id": f"{BUTTON_PREFIX}{n}"}
        for n, (label, value) in enumerate(buttons)
    ]}
