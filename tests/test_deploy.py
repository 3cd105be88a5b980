"""What an operator copies from the repository does what the docs say: the README's scripted
example reaches a whole check-in, .ci/run checks the same, the compose file and Dockerfile
hold what docs/operating.md promises, and the docs link to files that exist. No image is
built here (that needs a Docker daemon and a registry)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import without_settings

ROOT = Path(__file__).resolve().parent.parent
ACHTJE = Path(sys.executable).with_name("achtje")


def readme_example() -> str:
    """The `printf '...'` of the README's scripted example, as typed."""
    [found] = re.findall(r"`printf '([^']*)' \| \.venv/bin/achtje`",
                         (ROOT / "README.md").read_text(encoding="utf-8"))
    return found


def test_the_readme_example_signs_up_and_finishes_a_checkin(tmp_path: Path) -> None:
    typed = readme_example().encode().decode("unicode_escape")
    env = without_settings()
    done = subprocess.run([str(ACHTJE)], input=typed, capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "Demo Zorg & Welzijn" in done.stdout
    assert "Dank je, je bent aangemeld" in done.stdout
    assert "6/6 · " in done.stdout
    assert done.stdout.rstrip().endswith(
        "Zolang de ronde open is kun je met checkin een antwoord wijzigen.")
    assert "je check-in is klaar" in done.stdout
    assert done.stdout.count("Bij welke school werk je?") == 1  # no answer taken as wrong
    # CI runs the same line and looks for the same thanks.
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"printf '{readme_example()}'" in ci and "je check-in is klaar" in ci


def test_compose_runs_achtje_on_postgresql_15_with_secrets_from_files() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["db"]["image"] == "postgres:15"
    achtje = services["achtje"]
    assert achtje["build"] == "."
    assert achtje["env_file"] == "achtje.env"
    assert achtje["depends_on"]["db"]["condition"] == "service_healthy"
    assert achtje["ports"] == ["127.0.0.1:3000:3000"]  # only the reverse proxy reaches it
    assert "data:/data" in achtje["volumes"] and "db" in compose["volumes"]
    assert compose["secrets"]["db_password"]["file"] == "./db_password.txt"
    for key in ("ACHTJE_DATABASE_URL", "ACHTJE_SECRET_KEY", "SLACK_BOT_TOKEN",
                "TELEGRAM_BOT_TOKEN"):
        assert re.search(rf"^#? ?{key}=", (ROOT / "deploy" / "achtje.env.example")
                         .read_text(encoding="utf-8"), re.MULTILINE), key


def test_the_image_runs_achtje_as_a_user_with_a_volume_and_a_healthcheck() -> None:
    lines = [line.strip() for line in
             (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()]
    assert "FROM python:3.11-slim" in lines
    assert "USER achtje" in lines
    assert 'VOLUME ["/data"]' in lines
    assert 'CMD ["achtje", "run"]' in lines
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert "/healthz" in (ROOT / "Dockerfile").read_text(encoding="utf-8")
    # The bytecode is written at install: the image's user cannot write it at start, so
    # without it every start would compile every module from source.
    installs = [line for line in lines if "pip install" in line]
    assert installs and not [line for line in installs if "--no-compile" in line]
    # Everything the package needs is copied in.
    copied = {line.split()[1] for line in lines if line.startswith("COPY ")}
    include = re.search(r'include = \[([^\]]*)\]',
                        (ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert include is not None
    packages = {name.strip(' "*') for name in include.group(1).split(",")}
    assert packages <= copied


def test_the_systemd_unit_starts_achtje_run_as_its_own_user() -> None:
    unit = (ROOT / "deploy" / "achtje.service").read_text(encoding="utf-8")
    assert re.search(r"^ExecStart=\S+/achtje run$", unit, re.MULTILINE)
    assert "User=achtje" in unit and "EnvironmentFile=/etc/achtje/achtje.env" in unit


def test_the_operating_docs_link_to_what_exists() -> None:
    for doc in ("README.md", "docs/operating.md", "CHANGELOG.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (ROOT / doc).parent.joinpath(target).exists(), f"{doc} links to {target}"
    operating = (ROOT / "docs" / "operating.md").read_text(encoding="utf-8")
    for promised in ("443, 80, 88 and 8443", "Public", "privacy mode", ".backup",
                     "pg_dump", "pg_restore", "advisory lock", "ACHTJE_SECRET_KEY",
                     "deploy/achtje.service", "ACHTJE_LOG_FORMAT=json"):
        assert promised in operating, promised
