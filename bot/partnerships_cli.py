"""`achtje partnership`, `achtje member import`, `achtje bind` and `achtje bind-code`:
the operator's commands that set up partnerships, their members and their chats."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commandline import MAX_ID, content_or_fail, fail, partnership_or_fail, with_session
from bot.content import Content
from bot.domain import LANGS, LEVEL_IDS, REGIONS, ROLES, SCHOOL_TYPES
from bot.mail.address import address_problem, clean_address
from bot.mail.store import MAIL_ONLY, reads_summaries
from bot.settings import Settings
from bot.store import binding, repo
from bot.store.models import ChannelBinding, Member, Partnership, School
from bot.summary.frozen import freeze_closed_months
from bot.summary.model import MIN_GROUP_SIZE, OPEN_TEXT_MIN

partnership_app = typer.Typer(help="Create and list partnerships.")
member_app = typer.Typer(help="Add members in bulk.")

IMPORT_COLUMNS = ("partnership", "platform", "user", "school", "level")
DELIMITERS = (",", ";", "\t")
MAX_GROUP_SIZE = 50


def register(app: typer.Typer) -> None:
    """Add `bind` and `bind-code` to the `achtje` command (the groups are added by name)."""
    app.command()(bind)
    app.command("bind-code")(bind_code)


@partnership_app.command("create")
def partnership_create(
    name: Annotated[str, typer.Option(help="Name of the partnership.")],
    school: Annotated[list[str], typer.Option(
        help="A school as NAME:TYPE (type vmbo, mbo or other); repeat for each school.")],
    sector: Annotated[str, typer.Option(help="Sector, e.g. 'Zorg & Welzijn'.")] = "",
    region: Annotated[str, typer.Option(help="School holiday region: noord, midden, zuid.")]
    = "midden",
    language: Annotated[str, typer.Option(help="Default language: nl or en.")] = "nl",
) -> None:
    """Create a partnership with its schools; prints its id."""
    if not name.strip():
        raise fail("--name may not be empty")
    schools: list[School] = []
    for given in school:
        school_name, _, kind = given.rpartition(":")
        if not school_name or kind not in SCHOOL_TYPES:
            raise fail(f"--school {given!r}: write NAME:TYPE with TYPE one of "
                        f"{', '.join(SCHOOL_TYPES)}")
        if any(s.name == school_name.strip() for s in schools):
            raise fail(f"--school {school_name!r} is given twice")
        schools.append(School(name=school_name.strip(), type=kind))
    if region not in REGIONS:
        raise fail(f"--region must be one of {', '.join(REGIONS)}")
    if language not in LANGS:
        raise fail(f"--language must be {' or '.join(LANGS)}")

    async def work(session: AsyncSession) -> int:
        partnership = Partnership(name=name, sector=sector, region=region, language=language,
                                  created_at=datetime.now(UTC), schools=schools)
        session.add(partnership)
        await session.flush()
        return partnership.id

    typer.echo(with_session(work))


@partnership_app.command("list")
def partnership_list() -> None:
    """Every partnership with its schools and bound channels."""

    async def work(session: AsyncSession) -> list[str]:
        lines = []
        for partnership in await session.scalars(select(Partnership).order_by(Partnership.id)):
            schools = ", ".join(f"{s.name} ({s.type})" for s in partnership.schools)
            channels = ", ".join(
                f"{b.platform}:{b.channel_ref}" for b in await session.scalars(
                    select(ChannelBinding).where(ChannelBinding.partnership_id == partnership.id)
                )
            )
            lines.append(f"{partnership.id}\t{partnership.name}\t{partnership.region}\t"
                         f"{schools}\t{channels or '-'}")
        return lines

    for line in with_session(work):
        typer.echo(line)


@partnership_app.command("set")
def partnership_set(
    partnership: Annotated[int, typer.Option(min=1, max=MAX_ID, help="Partnership id.")],
    min_group_size: Annotated[int | None, typer.Option(
        help=f"Smallest group whose numbers a summary or team instrument shows, "
             f"{MIN_GROUP_SIZE} or more (open "
             f"texts need at least {OPEN_TEXT_MIN}).")] = None,
) -> None:
    """Change a partnership's settings; months already frozen keep what they used."""
    if min_group_size is None:
        raise fail("nothing to change: give --min-group-size N")
    if not MIN_GROUP_SIZE <= min_group_size <= MAX_GROUP_SIZE:
        raise fail(f"--min-group-size must be from {MIN_GROUP_SIZE} to {MAX_GROUP_SIZE}: a "
                   f"smaller group would let one person's answers show; nothing changed")
    content = content_or_fail(Settings())

    async def work(session: AsyncSession) -> str:
        found = await partnership_or_fail(session, partnership)
        # The months that closed keep the threshold they were published with.
        await freeze_closed_months(session, content, found, datetime.now(UTC))
        found.min_group_size = min_group_size
        return (f"partnership {partnership}: summaries from the running month on show groups "
                f"of at least {min_group_size} (open texts at least "
                f"{max(OPEN_TEXT_MIN, min_group_size)}); closed months keep their threshold")

    typer.echo(with_session(work))


@partnership_app.command("remove")
def partnership_remove(
    partnership: Annotated[int, typer.Option(min=1, max=MAX_ID, help="Partnership id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Offboard a partnership: erase its members and all its data, then the partnership.

    Nothing personal is kept; summaries already sent stay where they were sent. There is no
    undo but a backup (docs/operating.md)."""
    from bot.privacy.offboard import erase_partnership

    if not yes and not typer.confirm(
            f"Erase partnership {partnership}, all its members and all their data?"):
        raise fail("nothing erased")

    async def work(session: AsyncSession) -> list[str]:
        deleted = await erase_partnership(session, partnership)
        if deleted is None:
            raise fail(f"no partnership with id {partnership}")
        return [f"removed partnership {partnership}"] + [
            f"{what}: {count}" for what, count in deleted.items()]

    for line in with_session(work):
        typer.echo(line)


def bind(
    partnership: Annotated[int, typer.Option(min=1, max=MAX_ID, help="Partnership id.")],
    platform: Annotated[str, typer.Option(help="slack, telegram or console.")],
    channel: Annotated[str, typer.Option(help="The platform's channel or chat id.")],
) -> None:
    """Bind a platform channel to a partnership, so the people in it belong to it."""
    from adapters.platforms import names, ref_problem  # the SDKs load only for this command

    if platform not in names():
        raise fail(f"--platform must be one of {', '.join(names())}")
    problem = ref_problem(platform, "channel", channel)
    if problem is not None:
        raise fail(f"--channel: {problem}; nothing bound")
    channel = channel.strip()

    async def work(session: AsyncSession) -> str:
        if await session.get(Partnership, partnership) is None:
            raise fail(f"no partnership with id {partnership}")
        bound = await repo.partnership_for_chat(session, platform, channel)
        if bound is not None:
            raise fail(f"{platform}:{channel} is already bound to partnership {bound.id}")
        session.add(ChannelBinding(partnership_id=partnership, platform=platform,
                                   channel_ref=channel, created_at=datetime.now(UTC)))
        return f"bound {platform}:{channel} to partnership {partnership}"

    typer.echo(with_session(work))


def bind_code(
    partnership: Annotated[int, typer.Option(help="Partnership id.")],
    hours: Annotated[int, typer.Option(min=1, max=24 * 30,
                                       help="How long the code works.")] = 48,
) -> None:
    """Make a one-time code that binds a group to a partnership: `/koppel CODE` in the group.

    The code is printed once and stored only as a hash; it works once, until it expires.
    """

    async def work(session: AsyncSession) -> str:
        if await session.get(Partnership, partnership) is None:
            raise fail(f"no partnership with id {partnership}")
        return await binding.new_code(session, partnership, datetime.now(UTC),
                                      timedelta(hours=hours))

    code = with_session(work)
    typer.echo(code)
    typer.echo(f"send '/koppel {code}' in the group within {hours} hours; "
               "the code works once", err=True)


@member_app.command("import")
def member_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="CSV or Excel (.xlsx) file with a header row.")],
) -> None:
    """Add or update members from a CSV file; nothing is imported if any row is wrong.

    Columns: partnership, platform, user, name, school, level, role, language, and
    optionally email (leaders and board members get the monthly summary there), separated
    by commas or semicolons (as Dutch Excel saves a CSV). `user` is the person's id on the
    platform: on Slack TEAM:USER (for example T0123:U0789; the team id is in Slack's web
    address, app.slack.com/client/T0123/..., the member id under "Copy member ID" in their
    profile), on Telegram their numeric user id (Telegram Desktop shows it with Settings >
    Advanced > Experimental settings > Show Peer IDs in Profile). `school` is the school's
    name in that partnership, `level` one of board, management, teachers, `role` one of
    member, leader, admin (default member), `language` nl or en. A board member or leader
    who is in no chat: leave platform and user empty and give the email; they only get the
    summary mail (and the dashboard through it).
    """
    rows = read_member_csv(file)
    content = content_or_fail(Settings())

    async def work(session: AsyncSession) -> int:
        try:
            return await import_members(session, content, rows, datetime.now(UTC))
        except ImportProblems as exc:
            raise fail("nothing imported:\n" + "\n".join(exc.problems)) from exc

    typer.echo(f"imported {with_session(work)} members")


def read_member_csv(file: Path) -> list[dict[str, Any]]:
    """The rows of a member CSV, comma- or semicolon-separated (Dutch Excel writes `;`),
    or of an Excel workbook's first sheet (`file_text`); fails saying what is missing and
    what it read."""
    text = file_text(file)
    header = text.partition("\n")[0]
    delimiter = max(DELIMITERS, key=header.count)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows = list(reader)
    except csv.Error as exc:
        raise fail(f"{file}: not a CSV file ({exc})") from exc
    read = [name.strip() for name in reader.fieldnames or []]
    missing = [c for c in IMPORT_COLUMNS if c not in read]
    if missing or not rows:
        raise fail(f"{file}: needs a header row with {', '.join(IMPORT_COLUMNS)} and at least "
                   f"one member" + (f"; missing: {', '.join(missing)}" if missing else "")
                   + f"; read the columns {', '.join(map(repr, read)) or 'none'} "
                   f"separated by {delimiter!r}, and {len(rows)} rows")
    return [{(key or "").strip(): value for key, value in row.items()} for row in rows]


def file_text(file: Path) -> str:
    """A member file as CSV text: an Excel workbook (.xlsx) becomes CSV; a CSV file is read
    as UTF-8, with or without a byte order mark (or UTF-16 with one), or else as
    Windows-1252, which Dutch Excel writes for "CSV (gescheiden door lijstscheidingsteken)"."""
    data = file.read_bytes()
    if data.startswith(b"PK\x03\x04"):  # a zip file: what an .xlsx is
        return _sheet_as_csv(file)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise fail(f"{file}: an old Excel workbook (.xls); in Excel save it as "
                   "'Excel-werkmap (.xlsx)' or as CSV")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode-tekst" (tabs)
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise fail(f"{file}: neither UTF-8 nor Windows-1252 text ({exc}); in Excel save it "
                   "as 'CSV UTF-8 (door komma's gescheiden)' or as .xlsx") from exc


def _sheet_as_csv(file: Path) -> str:
    """The first sheet of an Excel workbook as CSV text, empty rows left out; a whole
    number stays one (Excel keeps numbers as floats)."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        book = load_workbook(file, read_only=True, data_only=True)
    except (BadZipFile, KeyError, ValueError, OSError) as exc:
        raise fail(f"{file}: not an Excel workbook (.xlsx) that can be read ({exc})") from exc
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    try:
        for row in book.worksheets[0].iter_rows(values_only=True):
            cells = ["" if value is None
                     else str(int(value)) if isinstance(value, float) and value.is_integer()
                     else str(value) for value in row]
            if any(cell.strip() for cell in cells):
                writer.writerow(cells)
    finally:
        book.close()
    return out.getvalue()


class ImportProblems(Exception):
    """Rows of a member import that are wrong; nothing was imported."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


async def import_members(session: AsyncSession, content: Content,
                         rows: list[dict[str, Any]], now: datetime) -> int:
    """Add or update members from CSV rows (line 2 is the first); all or nothing.

    A changed school or level must not move a month that is over, so each partnership's
    closed months are frozen first (bot.summary.frozen)."""
    problems: list[str] = []
    seen: dict[tuple[object, ...], int] = {}
    members = []
    for line, row in enumerate(rows, start=2):
        member = await _member_from_row(session, line, row, problems, now)
        key = (member.partnership_id, member.platform, member.user_ref)
        if key in seen:
            problems.append(f"line {line}: same person as line {seen[key]}")
        seen[key] = line
        members.append(member)
    if problems:
        raise ImportProblems(problems)
    for partnership_id in sorted({member.partnership_id for member in members}):
        found = await session.get(Partnership, partnership_id)
        assert found is not None  # checked per row above
        await freeze_closed_months(session, content, found, now)
    for member in members:
        await session.merge(member)
    return len(members)


async def _member_from_row(
    session: AsyncSession, line: int, row: dict[str, Any], problems: list[str], now: datetime
) -> Member:
    def field(name: str, default: str = "") -> str:
        return str(row.get(name) or default).strip()

    member = Member(platform=field("platform"), user_ref=field("user"),
                    display_name=field("name"), role=field("role", "member"),
                    language=field("language", "nl"), level=field("level") or None,
                    created_at=now, onboarded_at=now)
    # No chat account, only an address: a member who gets the summary mail and nothing else
    # (bot.mail.store.MAIL_ONLY; never onboarded, so never asked or counted).
    mail_only = member.platform in ("", MAIL_ONLY) and not member.user_ref \
        and bool(field("email"))
    if mail_only:
        member.platform, member.user_ref = MAIL_ONLY, clean_address(field("email"))
        member.onboarded_at = None
    given_id = field("partnership")
    partnership = (await session.get(Partnership, int(given_id))
                   if given_id.isdigit() and int(given_id) <= MAX_ID else None)
    if partnership is None:
        problems.append(f"line {line}: no partnership {field('partnership')!r}")
        return member
    member.partnership_id = partnership.id
    school = next((s for s in partnership.schools if s.name == field("school")), None)
    checks = [
        (bool(member.platform and member.user_ref), "platform and user are needed"),
        (school is not None, f"no school {field('school')!r} in partnership {partnership.id}"),
        (member.level in LEVEL_IDS, f"level must be one of {', '.join(LEVEL_IDS)}"),
        (member.role in ROLES, f"role must be one of {', '.join(ROLES)}"),
        (member.language in LANGS, f"language must be {' or '.join(LANGS)}"),
    ]
    if mail_only:
        checks.append((reads_summaries(member), "a member without platform and user only gets "
                       "the summary mail: give role leader or level board"))
    problems.extend(f"line {line}: {message}" for ok, message in checks if not ok)
    if "email" in row:  # an empty cell removes the address; no column leaves it as it is
        address = clean_address(field("email")) or None
        wrong_address = address_problem(address) if address else None
        if wrong_address is not None:
            problems.append(f"line {line}: email: {wrong_address}")
        member.email = address
    from adapters.platforms import ref_problem  # the SDKs load only for this command

    wrong_form = None if mail_only else ref_problem(member.platform, "user", member.user_ref)
    if wrong_form is not None:
        problems.append(f"line {line}: {wrong_form}")
    member.school_id = school.id if school else None
    existing = await session.scalar(select(Member).where(
        Member.partnership_id == partnership.id, Member.platform == member.platform,
        Member.user_ref == member.user_ref))
    if existing is not None:
        member.id, member.created_at = existing.id, existing.created_at
        member.onboarded_at = existing.onboarded_at or member.onboarded_at
    return member
