"""The `achtje` command as an operator uses it: the installed console script, run in a
separate process on a SQLite file in a temporary directory, with no platform tokens set."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bot.content import Content, default_dir, load_content
from tests.conftest import without_settings

ACHTJE = Path(sys.executable).with_name("achtje")
TIMEOUT = 60
CSV_HEADER = "partnership,platform,user,name,school,level,role,language\n"


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


Achtje = Callable[..., Result]


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The caller's environment without platform tokens or achtje settings, on a fresh file."""
    clean = without_settings()
    clean["ACHTJE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    return clean


@pytest.fixture
def achtje(tmp_path: Path, env: dict[str, str]) -> Achtje:
    """Run `achtje ARGS...` in tmp_path; `stdin` is fed as text, `extra` adds variables."""

    def run(*args: str, stdin: str = "", extra: dict[str, str] | None = None) -> Result:
        done = subprocess.run(
            [str(ACHTJE), *args], input=stdin, capture_output=True, text=True,
            cwd=tmp_path, env={**env, **(extra or {})}, timeout=TIMEOUT, check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run


def run_together(tmp_path: Path, env: dict[str, str], *commands: Sequence[str],
                 envs: Sequence[dict[str, str]] = ()) -> list[Result]:
    """Start independent commands at once (they are CPU-bound at start-up) and wait for all.

    `envs` adds variables per command. Only for commands that do not write the database.
    """
    extras = list(envs) or [{} for _ in commands]
    started = [subprocess.Popen([str(ACHTJE), *args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=tmp_path, env={**env, **extra})
               for args, extra in zip(commands, extras, strict=True)]
    results = []
    for process in started:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
        results.append(Result(process.returncode, stdout, stderr))
    return results


def rows(tmp_path: Path, query: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(tmp_path / "a.db")) as connection:
        return connection.execute(query).fetchall()


def table_names(tmp_path: Path) -> set[str]:
    return {str(name) for (name,) in rows(tmp_path, "SELECT name FROM sqlite_master "
                                                   "WHERE type='table'")}


def template_pattern(template: str, **groups: str) -> re.Pattern[str]:
    """A regex for a filled-in UI string: named placeholders get `groups`, the rest `.+?`;
    a counted word (`lid|leden`) either form."""
    pattern = re.escape(re.sub(r"(\w+)\|(\w+)", "\x00\\1\x01\\2\x02", template))
    pattern = pattern.replace("\x00", "(?:").replace("\x01", "|").replace("\x02", ")")
    for name in re.findall(r"{(\w+)}", template):
        pattern = pattern.replace(re.escape("{" + name + "}"), groups.get(name, ".+?"))
    return re.compile(pattern)


def assert_clean_failure(result: Result, *phrases: str) -> None:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


def create_partnership(achtje: Achtje, *schools: str) -> int:
    school_args = [arg for school in schools for arg in ("--school", school)]
    created = achtje("partnership", "create", "--name", "Leerlab Noord", *school_args,
                     "--region", "noord")
    assert created.returncode == 0, created.stderr
    return int(created.stdout.strip())


# 1. The terminal chat


def test_scripted_chat_continues_across_processes(achtje: Achtje, tmp_path: Path,
                                                  content: Content) -> None:
    first = achtje(stdin="help\ncheckin\n")
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    assert "checkin: beantwoord" in first.stdout
    assert content.text("help", "nl", partnership="Demo Zorg & Welzijn") in first.stdout
    # A new person who asks for a check-in is asked about their school first.
    ask_school = first.stdout.index(content.text("ask_school", "nl"))
    assert re.search(r"1\. Vmbo De Brug\s+2\. Mbo College Kompas", first.stdout[ask_school:])
    assert "1/6" not in first.stdout

    second = achtje(stdin="1\n3\n1\n")  # Vmbo De Brug, Docenten, Nederlands
    assert second.returncode == 0, second.stderr
    onboarded = second.stdout.index(content.text("onboarded", "nl"))
    # The check-in asked for in the first process starts right after onboarding.
    assert "1/6" in second.stdout[onboarded:]
    assert rows(tmp_path, "SELECT level, language FROM member WHERE onboarded_at IS NOT NULL") \
        == [("teachers", "nl")]
    assert rows(tmp_path, "SELECT count(*) FROM checkin_round") == [(1,)]


def test_odd_console_input_is_survived(achtje: Achtje, content: Content) -> None:
    odd = "\n".join([
        "x" * 10_000,
        "a\x00b\x07c\x1b[31mred\x7f \u202eevil\u202d \u2066isolated\u2069 \u200b",
        "",
        "   ",
        "\u202ehelp",
        "help",
    ]) + "\n"
    result = achtje(stdin=odd)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert content.text("ask_school", "nl") in result.stdout
    assert "checkin: beantwoord" in result.stdout



def test_undecodable_bytes_on_stdin_are_survived(tmp_path: Path, env: dict[str, str],
                                                 content: Content) -> None:
    done = subprocess.run([str(ACHTJE)], input=b"help\n\xff\xfe caf\xe9\ncheckin\n",
                          capture_output=True, cwd=tmp_path, timeout=TIMEOUT, check=False,
                          env={**env, "PYTHONIOENCODING": "utf-8:strict"})
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stdout + done.stderr
    assert content.text("ask_school", "nl").encode() in done.stdout

def test_run_with_an_unreachable_platform_fails_clearly(achtje: Achtje,
                                                        content: Content) -> None:
    """A token is set, so the platform is started instead of the terminal chat; when its API
    cannot be reached the operator reads why, not a traceback."""
    result = achtje("run", stdin="help\n", extra={
        "TELEGRAM_BOT_TOKEN": "x", "ACHTJE_TELEGRAM_API_URL": "http://127.0.0.1:9/bot"})
    assert_clean_failure(result, "telegram", "ACHTJE_TELEGRAM_API_URL")
    assert content.text("help", "nl", partnership="Demo Zorg & Welzijn") not in result.stdout


# 2. The demo


def test_demo_prints_a_reproducible_overview_per_month(tmp_path: Path, env: dict[str, str],
                                                       content: Content) -> None:
    demo = ("demo", "--months", "2", "--members", "6")
    first, again, other = run_together(tmp_path, env, (*demo, "--seed", "8"),
                                       (*demo, "--seed", "8"), (*demo, "--seed", "9"))
    assert first.returncode == 0, first.stderr
    title = template_pattern(content.text("overview_title", "nl"), month=r"(\w+ \d{4})")
    assert [m.group(1) for m in title.finditer(first.stdout)] == ["september 2026",
                                                                  "oktober 2026"]
    for condition in content.conditions:
        assert condition.name.nl in first.stdout, condition.id
    assert again.stdout == first.stdout
    assert other.returncode == 0, other.stderr
    assert other.stdout != first.stdout
    assert not (tmp_path / "a.db").exists(), "the demo must not touch the configured database"


# 3. Partnerships, channels and members


def test_partnership_create_list_and_bind(achtje: Achtje, tmp_path: Path,
                                           env: dict[str, str]) -> None:
    partnership = create_partnership(achtje, "A:vmbo", "B:mbo")
    args = ("bind", "--partnership", str(partnership), "--platform", "slack", "--channel", "T1:C1")
    bound = achtje(*args)
    assert bound.returncode == 0, bound.stderr
    assert "slack:T1:C1" in bound.stdout

    listed = achtje("partnership", "list")
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    assert line.startswith(f"{partnership}\tLeerlab Noord\tnoord\t")
    assert "A (vmbo), B (mbo)" in line
    assert "slack:T1:C1" in line

    # Neither of these writes anything, so they may run side by side.
    again, bad_school = run_together(
        tmp_path, env, args, ("partnership", "create", "--name", "Y", "--school", "A:lyceum"))
    assert_clean_failure(again, "slack:T1:C1", "already bound")
    assert_clean_failure(bad_school, "A:lyceum", "vmbo, mbo")
    assert rows(tmp_path, "SELECT count(*) FROM partnership") == [(1,)]
    assert rows(tmp_path, "SELECT count(*) FROM channel_binding") == [(1,)]


def test_member_import(achtje: Achtje, tmp_path: Path) -> None:
    partnership = create_partnership(achtje, "A:vmbo", "B:mbo")
    good = tmp_path / "members.csv"
    good.write_text(CSV_HEADER + "".join([
        f"{partnership},slack,T1:U1,Ann,A,teachers,member,nl\n",
        f"{partnership},slack,T1:U2,Bob,B,board,leader,en\n",
        f"{partnership},telegram,42,Cor,A,management,,\n",
    ]), encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV_HEADER + "".join([
        f"{partnership},slack,T1:U1,Ann,A,teachers,member,nl\n",
        f"{partnership},slack,T1:U3,Dirk,C,teachers,member,nl\n",   # line 3: no school C
        f"{partnership},slack,T1:U4,Eva,B,teachers,member,nl\n",
        f"{partnership},slack,T1:U5,Fay,B,lyceum,member,nl\n",      # line 5: bad level
        f"{partnership + 1},slack,T1:U6,Gus,B,teachers,member,nl\n",  # line 6: no partnership
    ]), encoding="utf-8")

    refused = achtje("member", "import", str(bad))
    assert_clean_failure(refused, "line 3", "'C'", "line 5", "level", "line 6",
                         f"no partnership '{partnership + 1}'")
    assert "line 2" not in refused.stderr and "line 4" not in refused.stderr
    assert rows(tmp_path, "SELECT count(*) FROM member") == [(0,)]

    for _ in range(2):
        imported = achtje("member", "import", str(good))
        assert imported.returncode == 0, imported.stderr
        assert "imported 3 members" in imported.stdout
    assert rows(tmp_path, "SELECT platform, user_ref, level, role, language FROM member "
                          "ORDER BY id") == [
        ("slack", "T1:U1", "teachers", "member", "nl"),
        ("slack", "T1:U2", "board", "leader", "en"),
        ("telegram", "42", "management", "member", "nl"),
    ]



def test_member_import_refuses_what_it_cannot_read_safely(achtje: Achtje, tmp_path: Path) -> None:
    partnership = create_partnership(achtje, "A:vmbo")
    twice = tmp_path / "twice.csv"
    twice.write_text(CSV_HEADER + f"{partnership},slack,T1:U1,Ann,A,teachers,member,nl\n"
                     f"{partnership},slack,T1:U1,Ann,A,board,member,nl\n", encoding="utf-8")
    assert_clean_failure(achtje("member", "import", str(twice)), "line 3", "line 2")
    latin = tmp_path / "latin.csv"
    latin.write_bytes((CSV_HEADER + f"{partnership},slack,T1:U1,Jos\x81,A,teachers,,\n")
                      .encode("latin-1"))
    assert_clean_failure(achtje("member", "import", str(latin)), "UTF-8")
    headless = tmp_path / "headless.csv"
    headless.write_text("who,where\nAnn,A\n", encoding="utf-8")
    assert_clean_failure(achtje("member", "import", str(headless)), "missing", "platform")
    huge = tmp_path / "huge.csv"
    huge.write_text(CSV_HEADER + "9" * 40 + ",slack,T1:U1,Ann,A,teachers,,\n", encoding="utf-8")
    assert_clean_failure(achtje("member", "import", str(huge)), "no partnership")
    assert rows(tmp_path, "SELECT count(*) FROM member") == [(0,)]
    assert_clean_failure(achtje("bind", "--partnership", str(partnership), "--platform", "irc",
                                "--channel", "x"), "--platform")


def test_ids_without_their_slack_team_are_refused_with_the_form(achtje: Achtje,
                                                                  tmp_path: Path) -> None:
    """A bare Slack id reaches nobody (every call needs its team's token): refused, saying
    the form and where to find the team id; nothing is bound or imported."""
    partnership = create_partnership(achtje, "A:vmbo")
    bare = achtje("bind", "--partnership", str(partnership), "--platform", "slack",
                  "--channel", "C0KAALKANAAL")
    assert_clean_failure(bare, "'C0KAALKANAAL'", "TEAM:ID", "T0123:C0456",
                         "app.slack.com/client/T0123")
    not_a_chat = achtje("bind", "--partnership", str(partnership), "--platform", "telegram",
                        "--channel", "leerlab")
    assert_clean_failure(not_a_chat, "'leerlab'", "number")
    assert rows(tmp_path, "SELECT count(*) FROM channel_binding") == [(0,)]

    members = tmp_path / "members.csv"
    members.write_text(CSV_HEADER + f"{partnership},slack,T1:U1,Ann,A,teachers,,\n"
                       f"{partnership},slack,U2004,Bob,A,teachers,,\n"
                       f"{partnership},telegram,@piet,Piet,A,teachers,,\n", encoding="utf-8")
    refused = achtje("member", "import", str(members))
    assert_clean_failure(refused, "line 3", "'U2004'", "TEAM:ID", "T0123:U0789",
                         "line 4", "'@piet'", "Show Peer IDs")
    assert "line 2" not in refused.stderr
    assert rows(tmp_path, "SELECT count(*) FROM member") == [(0,)]
    assert "Show Peer IDs" in achtje("member", "import", "--help").stdout


def test_member_import_reads_what_dutch_excel_writes(achtje: Achtje, tmp_path: Path) -> None:
    """Excel in Dutch saves a CSV with semicolons, CRLF line ends and (as CSV UTF-8) a BOM."""
    partnership = create_partnership(achtje, "Vmbo De Brug:vmbo")
    excel = tmp_path / "leden.csv"
    excel.write_bytes(("\ufeff" + CSV_HEADER.replace(",", ";").replace("\n", "\r\n")
                       + f"{partnership};telegram;42;Jos\u00e9 de Wit;Vmbo De Brug;teachers;;\r\n"
                       + f"{partnership};slack;T1:U1;Ann, van Dijk;Vmbo De Brug;board;leader;en"
                       "\r\n").encode("utf-8"))
    imported = achtje("member", "import", str(excel))
    assert imported.returncode == 0, imported.stderr
    assert "imported 2 members" in imported.stdout
    assert rows(tmp_path, "SELECT platform, user_ref, display_name, role FROM member "
                          "ORDER BY id") == [
        ("telegram", "42", "Jos\u00e9 de Wit", "member"),
        ("slack", "T1:U1", "Ann, van Dijk", "leader"),
    ]

    short = tmp_path / "short.csv"
    short.write_text("partnership;platform;gebruiker;school;niveau\n"
                     f"{partnership};telegram;43;Vmbo De Brug;teachers\n", encoding="utf-8")
    assert_clean_failure(achtje("member", "import", str(short)), "missing: user, level",
                         "'gebruiker'", "'niveau'", "';'", "1 rows")


def test_reimport_keeps_the_first_onboarding_date(achtje: Achtje, tmp_path: Path) -> None:
    partnership = create_partnership(achtje, "A:vmbo")
    members = tmp_path / "members.csv"
    members.write_text(CSV_HEADER + f"{partnership},slack,T1:U1,Ann,A,teachers,,\n",
                       encoding="utf-8")
    assert achtje("member", "import", str(members)).returncode == 0
    first = rows(tmp_path, "SELECT onboarded_at FROM member")
    assert achtje("member", "import", str(members)).returncode == 0
    assert rows(tmp_path, "SELECT onboarded_at FROM member") == first


# 4. Content and database


def test_content_check(tmp_path: Path, env: dict[str, str]) -> None:
    broken = tmp_path / "content"
    shutil.copytree(default_dir(), broken, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    pitfalls = yaml.safe_load((broken / "pitfalls.yaml").read_text(encoding="utf-8"))
    del pitfalls["pitfalls"][2]["success_factors"]
    (broken / "pitfalls.yaml").write_text(yaml.safe_dump(pitfalls, allow_unicode=True),
                                          encoding="utf-8")
    worded = tmp_path / "worded"
    shutil.copytree(default_dir(), worded, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (worded / "ui_extra.yaml").write_text(
        'ui: {x: {nl: "Nog {count} weken, gemiddeld 3.7", en: "{count} weeks to go"}}\n',
        encoding="utf-8")
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "a.txt").write_text("Inleiding. Vmbo en mbo gebruiken soms dezelfde woorden "
                                   "voor verschillende dingen, zei ze.", encoding="utf-8")
    shipped, result, wording = run_together(
        tmp_path, env, ("content", "check"), ("content", "check"),
        ("content", "check", "--sources", str(sources)),
        envs=[{}, {"ACHTJE_CONTENT_DIR": str(broken)}, {"ACHTJE_CONTENT_DIR": str(worded)}])
    assert shipped.returncode == 0, shipped.stderr
    assert "content is valid" in shipped.stdout
    assert result.returncode == 1
    assert_clean_failure(result, "pitfalls.yaml", "success_factors")
    assert_clean_failure(wording, "ui.x.nl: '{count} weken'", "ui.x.en: '{count} weeks",
                         "decimal point", "complexities.0.description.nl: 10 words")


def test_db_upgrade_creates_the_schema_and_is_repeatable(achtje: Achtje, tmp_path: Path) -> None:
    for _ in range(2):
        result = achtje("db", "upgrade")
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout
        assert {"answer", "member", "conversation", "processed_event",
                "alembic_version"} <= table_names(tmp_path)
        assert rows(tmp_path, "SELECT version_num FROM alembic_version")  # one row per head


def test_help_lists_the_commands(achtje: Achtje) -> None:
    result = achtje("--help")
    assert result.returncode == 0, result.stderr
    for command in ("run", "demo", "partnership", "member", "bind", "content", "db"):
        assert re.search(rf"^\W*{command}\s", result.stdout, re.MULTILINE), command


def test_version_is_the_installed_packages(achtje: Achtje) -> None:
    from importlib.metadata import version

    shown = achtje("--version")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == f"achtje {version('achtje')}\n"


def test_help_loads_no_engine_database_or_platform_library() -> None:
    """`achtje --help` stays quick: it imports typer and the list of commands, nothing heavy."""
    script = ("import sys\nfrom typer.testing import CliRunner\nfrom bot.cli import app\n"
              "result = CliRunner().invoke(app, ['--help'])\nassert result.exit_code == 0\n"
              "heavy = ('sqlalchemy', 'alembic', 'aiohttp', 'matplotlib', 'slack_bolt', "
              "'telegram', 'bot.engine', 'bot.store.db')\n"
              "print(' '.join(m for m in heavy if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    assert loaded.stdout.strip() == ""


def test_every_command_loaded_on_use_is_listed_with_its_own_help() -> None:
    """The names and help lines `achtje --help` shows without loading match the commands."""
    import typer

    from bot import cli

    registered: dict[str, str] = {}
    for _line, loader in cli._LAZY.values():
        for name, command in cli.load(loader).commands.items():
            registered[name] = (command.help or "").split("\n\n")[0].strip()
    assert {name: line for name, (line, _loader) in cli._LAZY.items()} == registered
    own = typer.main.get_group(cli.app).commands
    assert sorted(cli._ORDER) == sorted([*registered, *own])
