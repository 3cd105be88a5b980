"""The Teams app package: what Teams' own validator checks first (ids, domains, scopes,
icon sizes), read back from the zip."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import pytest

from adapters.teams.package import write
from bot.settings import SettingsError

APP_ID = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"


def test_the_package_holds_a_filled_in_manifest_and_two_icons(tmp_path: Path) -> None:
    path = write(tmp_path / "achtje.zip", APP_ID, "achtje.school.nl", "ROC \"Samen\"")
    with zipfile.ZipFile(path) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        sizes = {name: struct.unpack(">II", package.read(name)[16:24])
                 for name in ("color.png", "outline.png")}
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID
    assert manifest["validDomains"] == ["achtje.school.nl"]
    assert manifest["developer"]["name"] == "ROC \"Samen\""
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert "{{" not in json.dumps(manifest)
    assert sizes == {"color.png": (192, 192), "outline.png": (32, 32)}


@pytest.mark.parametrize(("app_id", "host"), [("not-a-guid", "achtje.school.nl"),
                                              (APP_ID, "https://achtje.school.nl/api")])
def test_a_wrong_app_id_or_host_is_refused(tmp_path: Path, app_id: str, host: str) -> None:
    with pytest.raises(SettingsError):
        write(tmp_path / "achtje.zip", app_id, host)
