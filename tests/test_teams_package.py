"""The Teams app package: `achtje teams package` writes a zip that passes what Teams'
validator checks first, read back from the zip.

`RULES` restates, as a JSON Schema (draft 4, as Microsoft's manifest schema is), the parts of
the Teams app manifest schema this package uses: the required fields, the id and version
formats, the lengths Teams allows, the bot's scopes and command lists. Microsoft's own schema
is not shipped by any package we can install, and the tests never fetch anything; where
Teams' rules span fields (the bot is the app, the URLs are on a valid domain) they are
checked in Python below."""

from __future__ import annotations

import copy
import json
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from adapters.teams.package import command_lists, write
from bot.content import Content
from bot.settings import SettingsError
from tests.conftest import without_settings

APP_ID = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
ACHTJE = Path(sys.executable).with_name("achtje")
GUID = "^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"
URL = {"type": "string", "maxLength": 2048, "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"}
SCOPES = {"type": "array", "minItems": 1, "maxItems": 3, "uniqueItems": True,
          "items": {"enum": ["team", "personal", "groupChat"]}}


def text(longest: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": longest}


def closed(properties: dict[str, Any], *required: str) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": properties,
            "required": list(required)}


RULES: dict[str, Any] = closed({
    "$schema": URL,
    "manifestVersion": {"enum": ["1.19", "1.20", "1.21", "1.22", "1.23", "1.24", "1.25"]},
    "version": {"type": "string", "maxLength": 256,
                "pattern": r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$"},
    "id": {"type": "string", "pattern": GUID},
    "developer": closed({"name": text(32), "websiteUrl": URL, "privacyUrl": URL,
                         "termsOfUseUrl": URL},
                        "name", "websiteUrl", "privacyUrl", "termsOfUseUrl"),
    "name": closed({"short": text(30), "full": text(100)}, "short"),
    "description": closed({"short": text(80), "full": text(4000)}, "short", "full"),
    "icons": closed({"color": text(2048), "outline": text(2048)}, "color", "outline"),
    "accentColor": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
    "bots": {"type": "array", "minItems": 1, "maxItems": 1, "items": closed({
        "botId": {"type": "string", "pattern": GUID},
        "scopes": SCOPES,
        "supportsFiles": {"type": "boolean"},
        "isNotificationOnly": {"type": "boolean"},
        "commandLists": {"type": "array", "maxItems": 3, "items": closed({
            "scopes": SCOPES,
            "commands": {"type": "array", "minItems": 1, "maxItems": 10, "items": closed(
                {"title": text(32), "description": text(128)}, "title", "description")},
        }, "scopes", "commands")},
    }, "botId", "scopes")},
    "permissions": {"type": "array", "maxItems": 2, "uniqueItems": True,
                    "items": {"enum": ["identity", "messageTeamMembers"]}},
    "validDomains": {"type": "array", "maxItems": 100, "items": {
        "type": "string", "maxLength": 2048,
        "pattern": r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9-]+)+$"}},
}, "manifestVersion", "version", "id", "developer", "name", "description", "icons",
    "accentColor")


def problems(manifest: dict[str, Any]) -> list[str]:
    """What Teams would refuse in a manifest: the schema's rules, then those across fields."""
    found = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
             for e in Draft4Validator(RULES).iter_errors(manifest)]
    if found:
        return found
    bot = manifest["bots"][0]
    if bot["botId"] != manifest["id"]:
        found.append("the bot is not this app (botId != id)")
    for name, url in manifest["developer"].items():
        if name.endswith("Url") and not url.startswith("https://"):
            found.append(f"developer/{name} is not https")
    domains = set(manifest.get("validDomains", []))
    if domains & {"*.botframework.com", "*.microsoft.com", "*.onmicrosoft.com"}:
        found.append("validDomains names a Microsoft domain")
    lists = bot.get("commandLists", [])
    scopes = [scope for listed in lists for scope in listed["scopes"]]
    if len(scopes) != len(set(scopes)) or not set(scopes) <= set(bot["scopes"]):
        found.append("a scope has two command lists, or one the bot does not have")
    for listed in lists:
        titles = [c["title"] for c in listed["commands"]]
        if len(titles) != len(set(titles)):
            found.append("a command twice in one list")
    return found


def png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the RGBA pixels of one of our (unfiltered, 8-bit RGBA) PNGs."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, kind = struct.unpack(">IIBB", data[16:26])
    assert (depth, kind) == (8, 6)
    length = struct.unpack(">I", data[33:37])[0]
    raw = zlib.decompress(data[41:41 + length])
    stride = 1 + 4 * width
    pixels = [raw[y * stride + 1 + 4 * x:y * stride + 5 + 4 * x]
              for y in range(height) for x in range(width)]
    return width, height, pixels


def read(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    with zipfile.ZipFile(path) as package:
        files = {name: package.read(name) for name in package.namelist()}
    return json.loads(files.pop("manifest.json")), files


def test_the_package_passes_teams_rules(tmp_path: Path, content: Content) -> None:
    path = write(tmp_path / "achtje.zip", APP_ID, "achtje.school.nl", "ROC \"Samen\"",
                 command_lists(content, "nl"))
    manifest, files = read(path)
    assert problems(manifest) == []
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID
    assert manifest["validDomains"] == ["achtje.school.nl"]
    assert manifest["developer"]["name"] == "ROC \"Samen\""
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    assert sorted(files) == sorted(manifest["icons"].values())  # at the zip's root
    color = png(files[manifest["icons"]["color"]])
    outline = png(files[manifest["icons"]["outline"]])
    assert color[:2] == (192, 192) and outline[:2] == (32, 32)
    assert {p[3] for p in color[2]} == {255}  # the colour icon is opaque
    # The outline is white on transparent: nothing else.
    assert set(outline[2]) == {b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"}


def test_the_command_menus_are_the_declared_commands_in_both_languages(
        content: Content) -> None:
    for lang in ("nl", "en"):
        personal, groups = command_lists(content, lang)
        titles = [c["title"] for c in personal["commands"]]  # type: ignore[attr-defined]
        assert "checkin" in titles and "koppel" not in titles
        assert "koppel" in [c["title"] for c in groups["commands"]]  # type: ignore[attr-defined]
        # Each menu is what the registry declares for its kind of chat, in the menu's order.
        assert titles == ["help", "checkin", "valkuilen", "instrumenten", "koffie", "pauze",
                          "taal", "privacy"]
        assert [c["title"] for c in groups["commands"]] == [  # type: ignore[attr-defined]
            "help", "valkuilen", "instrumenten", "koppel", "setup"]
        for listed in (personal, groups):
            for command in listed["commands"]:  # type: ignore[attr-defined]
                assert command["description"] == content.text(
                    f"telegram_command_{command['title']}", lang)


@pytest.mark.parametrize(("field", "value"), [
    (("id",), "achtje"), (("bots", 0, "botId"), "0b1c2d3e-4f50-6172-8394-000000000000"),
    (("version",), "1.0"), (("accentColor",), "green"), (("name", "short"), "a" * 31),
    (("bots", 0, "scopes"), ["personal", "meeting"]), (("validDomains",), ["https://x.nl/"]),
    (("developer", "privacyUrl"), "http://achtje.school.nl/privacy"),
    (("bots", 0, "commandLists", 0, "commands", 0, "title"), "t" * 33),
    (("bots", 0, "commandLists", 1, "scopes"), ["personal"]),
])
def test_the_rules_refuse_what_teams_refuses(
        tmp_path: Path, content: Content, field: tuple[Any, ...], value: Any) -> None:
    manifest, _files = read(write(tmp_path / "a.zip", APP_ID, "achtje.school.nl", "achtje",
                                  command_lists(content, "en")))
    broken = copy.deepcopy(manifest)
    holder = broken
    for step in field[:-1]:
        holder = holder[step]
    holder[field[-1]] = value
    assert problems(manifest) == [] and problems(broken) != []


@pytest.mark.parametrize(("app_id", "host", "organisation"), [
    ("not-a-guid", "achtje.school.nl", "achtje"),
    (APP_ID, "https://achtje.school.nl/api", "achtje"),
    (APP_ID, "achtje.school.nl", "Een heel lange naam van een ROC ergens"),
])
def test_a_wrong_app_id_host_or_name_is_refused(
        tmp_path: Path, app_id: str, host: str, organisation: str) -> None:
    with pytest.raises(SettingsError):
        write(tmp_path / "achtje.zip", app_id, host, organisation)
    assert not (tmp_path / "achtje.zip").exists()


def test_achtje_teams_package_writes_it(tmp_path: Path) -> None:
    env = without_settings()

    def achtje(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(ACHTJE), "teams", "package", *args], cwd=tmp_path,
                              env={**env, **extra}, capture_output=True, text=True,
                              timeout=60, check=False)

    done = achtje("--host", "achtje.school.nl", ACHTJE_TEAMS_APP_ID=APP_ID)
    assert done.returncode == 0, done.stderr
    manifest, _files = read(tmp_path / "achtje-teams.zip")
    assert problems(manifest) == [] and manifest["id"] == APP_ID
    refused = achtje("--host", "https://x", "--app-id", APP_ID, "--out", "b.zip")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "host" in refused.stderr and not (tmp_path / "b.zip").exists()
    assert achtje("--host", "achtje.school.nl").returncode == 1  # no app id anywhere
