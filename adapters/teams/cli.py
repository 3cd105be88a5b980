"""`achtje teams package`: the Teams app package a school's IT person uploads in the Teams
admin center (docs/teams.md, "Setting it up")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

teams_app = typer.Typer(help="Microsoft Teams: the app package to upload in Teams.")


@teams_app.command("package")
def package(
    host: Annotated[str, typer.Option(
        help="The domain achtje answers on (its /api/messages), without https://.")],
    app_id: Annotated[str | None, typer.Option(
        help="The app registration's client id; default ACHTJE_TEAMS_APP_ID.")] = None,
    out: Annotated[Path, typer.Option(help="The zip to write.")] = Path("achtje-teams.zip"),
    organisation: Annotated[str, typer.Option(
        help="Who offers the app, as Teams shows it (at most 32 characters).")] = "achtje",
    lang: Annotated[str, typer.Option(help="The language of the command menus: nl or en."
                                      )] = "nl",
) -> None:
    """Write the Teams app package: manifest.json with the app id and host, and both icons."""
    from adapters.teams.package import command_lists, write
    from bot.commandline import content_or_fail, fail
    from bot.domain import LANGS
    from bot.settings import Settings, SettingsError

    settings = Settings()
    chosen = app_id or settings.teams_app_id
    if not chosen:
        raise fail("name the app id: --app-id or ACHTJE_TEAMS_APP_ID")
    if lang not in LANGS:
        raise fail(f"--lang must be {' or '.join(LANGS)}")
    content = content_or_fail(settings)
    try:
        written = write(out, chosen, host, organisation, command_lists(content, lang))
    except SettingsError as exc:
        raise fail(str(exc)) from exc
    except OSError as exc:
        raise fail(f"could not write {out}: {exc.strerror}") from exc
    typer.echo(f"wrote {written}: upload it in the Teams admin center (docs/teams.md)")
