"""manifest.yml asks Slack for exactly what the code uses: every event the Slack adapter
listens to is subscribed (an unsubscribed one never arrives, as "@achtje help" did not),
and the bot scopes are those the Web API methods it calls, its events and its slash command
need; no more. Read from the source with `ast`, nothing is imported."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SLACK = ROOT / "adapters" / "slack"

# What each Web API method achtje calls needs (Slack's method reference). A method missing
# here fails the test: look its scope up and add it, then the manifest follows.
METHOD_SCOPES: dict[str, frozenset[str]] = {
    "auth_test": frozenset(),
    "apps_connections_open": frozenset(),  # the app-level token's connections:write
    "chat_postMessage": frozenset({"chat:write"}),
    "chat_postEphemeral": frozenset({"chat:write"}),
    "chat_update": frozenset({"chat:write"}),
    # Finding a scheduled post again by its metadata, in public and private channels and DMs.
    "conversations_history": frozenset({"channels:history", "groups:history", "im:history"}),
    "conversations_replies": frozenset({"channels:history", "groups:history", "im:history"}),
    "conversations_open": frozenset({"im:write"}),
    "files_upload_v2": frozenset({"files:write"}),
    "users_info": frozenset({"users:read"}),
    "views_open": frozenset(),
    "views_publish": frozenset(),
}
# The manifest's name of an event the code listens to, and the scope it needs.
EVENTS: dict[str, tuple[str, frozenset[str]]] = {
    "message": ("message.im", frozenset({"im:history"})),  # DMs only: from_message
    "app_mention": ("app_mention", frozenset({"app_mentions:read"})),
    "app_home_opened": ("app_home_opened", frozenset()),
    "app_uninstalled": ("app_uninstalled", frozenset()),
    "tokens_revoked": ("tokens_revoked", frozenset()),
}
METHOD_CALL = re.compile(
    r"^(auth|apps|chat|conversations|files|users|views|team|reactions|pins|bookmarks|"
    r"usergroups|dnd|reminders|emoji|search|stars|admin|calls|dialog|bots|oauth)_\w+$")


def manifest() -> dict[str, object]:
    found = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert isinstance(found, dict)
    return found


def slack_sources() -> dict[str, ast.Module]:
    return {path.name: ast.parse(path.read_text(encoding="utf-8"))
            for path in sorted(SLACK.glob("*.py"))}


def listened_events() -> set[str]:
    """Every `app.event("NAME")` in the Slack adapter."""
    found = set()
    for tree in slack_sources().values():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "event" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                found.add(str(node.args[0].value))
    return found


def called_methods() -> set[str]:
    """Every `something.chat_postMessage(...)`-shaped call: a Web API method."""
    return {node.func.attr for tree in slack_sources().values() for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and METHOD_CALL.match(node.func.attr)}


def test_every_event_the_code_listens_to_is_subscribed_and_no_other() -> None:
    listened = listened_events()
    assert "app_mention" in listened and "message" in listened
    unknown = listened - EVENTS.keys()
    assert not unknown, f"add {unknown} to EVENTS with the scope Slack says it needs"
    settings = manifest()["settings"]
    assert isinstance(settings, dict)
    subscribed = set(settings["event_subscriptions"]["bot_events"])
    assert subscribed == {EVENTS[name][0] for name in listened}


def test_the_bot_scopes_are_what_the_code_needs() -> None:
    methods = called_methods()
    assert {"chat_postMessage", "conversations_open", "users_info"} <= methods
    unknown = methods - METHOD_SCOPES.keys()
    assert not unknown, f"add {unknown} to METHOD_SCOPES with the scope Slack lists"
    features = manifest()["features"]
    assert isinstance(features, dict)
    needed = {"commands"} if features.get("slash_commands") else set()
    for method in methods:
        needed |= METHOD_SCOPES[method]
    for name in listened_events():
        needed |= EVENTS[name][1]
    oauth = manifest()["oauth_config"]
    assert isinstance(oauth, dict)
    assert set(oauth["scopes"]["bot"]) == needed


def test_the_slash_command_and_requests_reach_the_events_path() -> None:
    from_source = (SLACK / "app.py").read_text(encoding="utf-8")
    [path] = re.findall(r'EVENTS_PATH = "([^"]+)"', from_source)
    features, settings = manifest()["features"], manifest()["settings"]
    assert isinstance(features, dict) and isinstance(settings, dict)
    urls = [command["url"] for command in features["slash_commands"]]
    urls += [settings["event_subscriptions"]["request_url"],
             settings["interactivity"]["request_url"]]
    assert urls and all(url.endswith(path) for url in urls)
