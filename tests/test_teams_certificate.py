"""The Teams app logging in with a certificate instead of its secret: a client assertion
(PS256, the certificate's SHA-256 thumbprint) that the fake Entra ID token endpoint checks
as the real one does, over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.teams import build
from bot.engine import Engine
from bot.messages import DeliveryError, Parts, Text
from bot.settings import Settings, SettingsError
from bot.store.models import Partnership
from tests.teams_fakes import ANNA, APP_ID, CERT_PEM, certificate_pem, running


async def test_the_app_logs_in_with_its_certificate(
        engine: Engine, partnership: Partnership, tmp_path: Path) -> None:
    pem = tmp_path / "achtje-teams.pem"
    pem.write_bytes(CERT_PEM)
    async for teams in running(engine, certificate=pem):
        sent = await teams.say(ANNA, "hoi")
        assert sent and teams.fake.token_calls == 1
        [claims] = teams.fake.assertions
        assert claims["aud"].endswith("/oauth2/v2.0/token")
        assert claims["exp"] - claims["nbf"] <= 600  # short-lived


async def test_a_certificate_entra_does_not_know_is_refused_without_retrying(
        engine: Engine, partnership: Partnership, tmp_path: Path) -> None:
    other, _thumbprint = certificate_pem(rsa.generate_private_key(65537, 2048))
    pem = tmp_path / "other.pem"
    pem.write_bytes(other)
    async for teams in running(engine, certificate=pem):
        await teams.say(ANNA, "hoi")  # answered? no: the bot cannot get its token
        assert teams.fake.posts(f"a:personal-{ANNA.member}") == []
        with pytest.raises(DeliveryError) as refused:
            await teams.adapter.send_direct(ANNA.ref, [Text(text="x")], parts=Parts(key=1))
        assert "certificate" in str(refused.value) and teams.fake.assertions == []


def test_a_file_that_is_no_certificate_is_a_settings_error(tmp_path: Path) -> None:
    key_only = tmp_path / "key.pem"
    key_only.write_bytes(CERT_PEM.split(b"-----BEGIN CERTIFICATE-----")[0])
    for path in (key_only, tmp_path / "missing.pem"):
        settings = Settings(ACHTJE_TEAMS_APP_ID=APP_ID, ACHTJE_TEAMS_CERTIFICATE=path)
        with pytest.raises(SettingsError, match="certificate"):
            build(settings, None, None)  # type: ignore[arg-type]
