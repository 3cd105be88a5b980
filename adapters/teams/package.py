"""The Teams app package a school's IT person uploads in the Teams admin center: a zip of
manifest.json (from `manifest.template.json`, with the app id, the host and the command
menus filled in) and its two icons (a 192x192 colour icon and a 32x32 white-on-transparent
outline), drawn here.

The command menus Teams shows (`commandLists`, one for the personal chat, one for teams and
group chats) come from the commands declared for a menu in `bot.registry`, by the kind of
chat each is declared for (`chats`), described by
the same content as Telegram's menu (`telegram_command_<name>`), in one language: a
manifest without localisation files has one.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

from bot.content import Content
from bot.settings import SettingsError

TEMPLATE = Path(__file__).with_name("manifest.template.json")
_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*"
                   r"[A-Za-z0-9])?)+")
GREEN = (0x2E, 0x7D, 0x32, 0xFF)
WHITE = (0xFF, 0xFF, 0xFF, 0xFF)
CLEAR = (0, 0, 0, 0)
MAX_COMMANDS, MAX_TITLE, MAX_DESCRIPTION = 10, 32, 128  # Teams' limits per list


def command_lists(content: Content, lang: str) -> list[dict[str, object]]:
    """The bot's command menus: what a person can type in the personal chat, and what
    makes sense after @achtje in a team channel or a group chat."""
    import bot.features  # noqa: F401  (declares the commands)
    from bot import registry

    def listed(chosen: list[str]) -> list[dict[str, str]]:
        return [{"title": name[:MAX_TITLE], "description": content.text(
            f"telegram_command_{name}", lang)[:MAX_DESCRIPTION]}
            for name in chosen[:MAX_COMMANDS]]

    return [
        {"scopes": ["personal"], "commands": listed(registry.menu("direct"))},
        {"scopes": ["team", "groupChat"], "commands": listed(registry.menu("group"))},
    ]


def manifest(app_id: str, host: str, organisation: str,
             commands: list[dict[str, object]] | None = None) -> dict[str, object]:
    if not _GUID.fullmatch(app_id):
        raise SettingsError("the app id is the app registration's client id, a GUID")
    if not _HOST.fullmatch(host):
        raise SettingsError("the host is a domain name only, without https:// or a path")
    if not 0 < len(organisation) <= 32:
        raise SettingsError("the organisation's name is 1 to 32 characters (Teams shows it)")
    text = TEMPLATE.read_text(encoding="utf-8")
    for key, value in (("APP_ID", app_id), ("HOST", host), ("ORGANISATION", organisation)):
        text = text.replace("{{" + key + "}}", json.dumps(value)[1:-1])
    found: dict[str, Any] = json.loads(text)
    if commands:
        found["bots"][0]["commandLists"] = commands
    else:
        del found["bots"][0]["commandLists"]
    return found


def write(path: Path, app_id: str, host: str, organisation: str = "achtje",
          commands: list[dict[str, object]] | None = None) -> Path:
    """Writes the zip (manifest.json, color.png, outline.png at its root)."""
    data = json.dumps(manifest(app_id, host, organisation, commands), indent=2,
                      ensure_ascii=False)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", data)
        package.writestr("color.png", icon(192, GREEN, WHITE))
        package.writestr("outline.png", icon(32, CLEAR, WHITE))
    return path


def icon(size: int, background: tuple[int, ...], mark: tuple[int, ...]) -> bytes:
    """A square PNG with a ring (an "8" seen from above, more or less) in the middle."""
    rows = []
    centre, outer, inner = (size - 1) / 2, size * 0.38, size * 0.22
    for y in range(size):
        row = bytearray([0])  # filter: none
        for x in range(size):
            distance = ((x - centre) ** 2 + (y - centre) ** 2) ** 0.5
            row += bytes(mark if inner <= distance <= outer else background)
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw)
            + chunk(b"IEND", b""))
