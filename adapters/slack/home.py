"""The Home tab: a member's own settings, the open and the next check-in, with buttons to act.

The buttons carry the same `cmd:` actions the engine knows, so pressing one is handled
exactly like typing the command in the DM.
"""

from __future__ import annotations

from typing import Any

from adapters.slack.render import BUTTON_PREFIX, Block, escape, sections
from bot.content import Content
from bot.domain import LEVEL_IDS
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
    pause = (t("slack_home_paused_until", until=content.day(profile.paused_until, lang))
             if profile.paused_until else t("slack_home_not_paused"))
    fields = [(t("slack_home_school"), profile.school or not_set),
              (t("slack_home_level"), level),
              (t("slack_home_language"), t(f"language_{profile.language}")),
              (t("slack_home_pause"), pause)]
    progress = profile.open_round
    status = [t("slack_home_round_open", number=progress.number,
                closes=content.moment(progress.closes_at, lang, weekday="none"),
                answered=progress.answered, total=progress.total)] if progress else []
    status.append(_next_checkin(content, profile, lang))
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "emoji": True,
                                    "text": t("slack_home_title",
                                              partnership=profile.partnership)[:150]}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{escape(name)}*\n{escape(value)}"[:2000]}
            for name, value in fields
        ]},
        *(block for line in status for block in sections(line)),
        _actions([(t(key), action) for key, action in _COMMANDS]),
    ]
    return {"type": "home", "blocks": blocks}


def _next_checkin(content: Content, profile: MemberProfile, lang: str) -> str:
    """When the member hears from achtje next: the partnership's next round, unless a pause
    still runs then."""
    when = profile.next_checkin
    if when is None:
        return content.text("slack_home_next_none", lang)
    if profile.paused_until is not None and when.date() < profile.paused_until:
        return content.text("slack_home_next_paused", lang,
                            until=content.day(profile.paused_until, lang))
    return content.text("slack_home_next", lang, when=content.moment(when, lang))


def _actions(buttons: list[tuple[str, str]]) -> Block:
    return {"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": label[:75], "emoji": True},
         "value": value, "action_id": f"{BUTTON_PREFIX}{n}"}
        for n, (label, value) in enumerate(buttons)
    ]}
