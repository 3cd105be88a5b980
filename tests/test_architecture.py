"""The house rules, read off the source with the stdlib `ast` (no import is executed).

The declared direction (docs/architecture.md, "Rules of the house"):

- (circle) no import circle between modules;
- (bot-direction) `bot/` imports neither `scheduler/` nor `adapters/`, except the
  composition root (`bot/cli.py`, `bot/service.py`, `bot/partnerships_cli.py`);
- (scheduler-direction) `scheduler/` imports no adapter, no dialogue and no platform SDK;
- (sdk) only `adapters/` import a platform SDK (slack_bolt, slack_sdk, telegram) or an
  `adapters/` module (the composition root builds the adapters, so it may name them);
- (adapters-direction) `adapters/` import no `scheduler/`;
- (size) no module over 400 lines;
- (sql) no SQL in a dialogue: a dialogue builds no statement (`select`, `update`, `delete`,
  `insert`, `text` from sqlalchemy) and runs no SQL string; its queries live in `bot/store/`
  or in its feature's query module.

An import is an edge from the module that holds it to the module it names:
`from bot.store import repo` names `bot.store.repo`, `from bot.store.repo import x` names
`bot.store.repo`; for circles it is an edge to the packages whose `__init__.py` runs first
too (`bot.summary` for `bot.summary.compute`). Imports under `if TYPE_CHECKING:` are no
edge: they never run.
An import inside a function IS an edge, for every rule, circles included: deferring an
import keeps the interpreter from tripping over a circle, but the two modules still need
each other, and a reader (or a test that imports one of them alone) still meets both.
So a function-level import is no way around a rule; the composition root's lazy imports
are allowed by the direction rules because it is the composition root, not because they
are lazy.

There is no allow-list: a violation is fixed, or the rule is changed here and in the doc.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "scheduler", "adapters")
SDKS = ("slack_bolt", "slack_sdk", "telegram", "microsoft_agents", "aiosmtplib", "jinja2")
# bot/partnerships_cli.py: `achtje bind` checks the platform against the adapters' list.
COMPOSITION_ROOT = frozenset({"bot.cli", "bot.service", "bot.partnerships_cli"})
MAX_LINES = 400
SQL_BUILDERS = frozenset({"select", "update", "delete", "insert", "text"})
RUNNERS = frozenset({"execute", "exec_driver_sql", "scalar", "scalars", "stream"})
# Dialogue modules besides bot/engine.py, bot/flows/**, bot/*/chat.py, bot/*/commands.py:
# other modules that answer a person in a turn.
OTHER_DIALOGUES = frozenset({"bot.nudges.followup", "bot.summary.command"})


@dataclass(frozen=True)
class Module:
    name: str  # dotted: bot.flows.setup
    path: str  # relative, with slashes: bot/flows/setup.py
    tree: ast.Module
    lines: int


@dataclass(frozen=True)
class Import:
    source: Module
    line: int
    target: str  # the module named (for an internal one, the module file that exists)
    names: tuple[str, ...]  # what a `from` import takes out of it


@dataclass(frozen=True)
class Violation:
    rule: str
    path: str
    subject: str  # the import, circle or size
    line: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.path, self.subject)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.subject} (rule: {self.rule})"


def load_modules(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for package in packages:
        for file in sorted((root / package).rglob("*.py")):
            relative = file.relative_to(root)
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            source = file.read_text(encoding="utf-8")
            modules[".".join(parts)] = Module(".".join(parts), relative.as_posix(),
                                              ast.parse(source, str(relative)),
                                              len(source.splitlines()))
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: module level, in functions and classes, but
    not in the body of `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _import_nodes(ast.Module(body=[other], type_ignores=[]))
        else:
            yield from _import_nodes(child)


def _resolve(name: str, modules: dict[str, Module]) -> str:
    """The module file an internal dotted name lands in (a function or class named in it
    is its module's)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def imports_of(module: Module, modules: dict[str, Module]) -> list[Import]:
    found: list[Import] = []
    is_package = module.path.endswith("__init__.py")
    for node in _import_nodes(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name
                if target.split(".")[0] in PACKAGES:
                    target = _resolve(target, modules) or target
                found.append(Import(module, node.lineno, target, ()))
            continue
        base = node.module or ""
        if node.level:
            package = module.name.split(".")
            if not is_package:
                package = package[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, *([base] if base else [])])
        names = tuple(alias.name for alias in node.names)
        if base.split(".")[0] not in PACKAGES:
            found.append(Import(module, node.lineno, base, names))
            continue
        targets = {_resolve(f"{base}.{n}", modules) for n in names} - {""}
        for target in sorted(targets or {base}):
            found.append(Import(module, node.lineno, target, names))
    return found


def all_imports(modules: dict[str, Module]) -> list[Import]:
    return [i for module in modules.values() for i in imports_of(module, modules)]


def _top(name: str) -> str:
    return name.split(".")[0]


def is_dialogue(name: str) -> bool:
    parts = name.split(".")
    return (name == "bot.engine" or name in OTHER_DIALOGUES
            or (parts[:2] == ["bot", "flows"] and len(parts) > 2)
            or (len(parts) == 3 and parts[0] == "bot" and parts[2] in ("chat", "commands")))


def direction_violations(imports: Iterable[Import]) -> list[Violation]:
    found: list[Violation] = []
    for i in imports:
        where, target = _top(i.source.name), _top(i.target)

        def flag(rule: str, i: Import = i) -> None:
            found.append(Violation(rule, i.source.path, f"imports {i.target}", i.line))

        if where == "bot" and target in ("scheduler", "adapters") \
                and i.source.name not in COMPOSITION_ROOT:
            flag("bot-direction: bot/ imports no scheduler/ or adapters/ "
                 "(only the composition root bot/cli.py, bot/service.py does)")
        if where == "scheduler" and (target in ("adapters", *SDKS) or is_dialogue(i.target)):
            flag("scheduler-direction: scheduler/ imports no adapter, no dialogue "
                 "and no platform SDK")
        if target in SDKS and where != "adapters":
            flag("sdk: only adapters/ import a platform SDK")
        if target == "adapters" and where != "adapters" \
                and i.source.name not in COMPOSITION_ROOT:
            flag("sdk: only adapters/ (and the composition root) import adapters/ modules")
        if where == "adapters" and target == "scheduler":
            flag("adapters-direction: adapters/ import no scheduler/")
    return found


def circle_violations(modules: dict[str, Module],
                      imports: Iterable[Import]) -> list[Violation]:
    """Each strongly connected group of two or more modules (or a module importing itself),
    named by one shortest circle through its first module."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for i in imports:
        if i.target in modules and i.target != i.source.name:
            graph[i.source.name].add(i.target)
            graph[i.source.name].update(_packages_run_first(i.source.name, i.target, modules))
    found: list[Violation] = []
    for group in _strongly_connected(graph):
        if len(group) < 2:
            continue
        start = min(group)
        circle = _shortest_circle(graph, start, group)
        found.append(Violation(
            "circle: no import circle between modules", modules[start].path,
            " -> ".join(circle), 0))
    return found


def _packages_run_first(source: str, target: str, modules: dict[str, Module]) -> set[str]:
    """Importing `bot.summary.compute` runs `bot/summary/__init__.py` first, unless the
    importer is inside that package (then the package is already being imported)."""
    parts = target.split(".")
    ancestors = {".".join(parts[:k]) for k in range(1, len(parts))}
    return {a for a in ancestors
            if a in modules and a != source and not source.startswith(f"{a}.")}


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan; the graph is small enough for recursion
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _shortest_circle(graph: dict[str, set[str]], start: str, group: set[str]) -> list[str]:
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for successor in sorted(graph[node] & group):
            if successor == start:
                return [*paths[node], start]
            if successor not in paths:
                paths[successor] = [*paths[node], successor]
                queue.append(successor)
    raise AssertionError(f"{start} is in a group without a circle")


def size_violations(modules: dict[str, Module]) -> list[Violation]:
    return [Violation(f"size: no module over {MAX_LINES} lines", m.path, f"{m.lines} lines")
            for m in modules.values() if m.lines > MAX_LINES]


def sql_violations(modules: dict[str, Module]) -> list[Violation]:
    """A dialogue builds no SQL statement and runs no SQL string."""
    rule = "sql: no SQL in a dialogue (queries live in bot/store/ or a feature's query module)"
    found: list[Violation] = []
    for module in modules.values():
        if not is_dialogue(module.name):
            continue
        for node in ast.walk(module.tree):
            if isinstance(node, ast.ImportFrom) and _top(node.module or "") == "sqlalchemy":
                for alias in node.names:
                    if alias.name in SQL_BUILDERS:
                        found.append(Violation(
                            rule, module.path,
                            f"imports {alias.name} from {node.module}", node.lineno))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in RUNNERS and node.args and _is_sql_text(node.args[0]):
                found.append(Violation(rule, module.path, f"runs SQL text with "
                                       f".{node.func.attr}()", node.lineno))
    return found


def _is_sql_text(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant | ast.JoinedStr):
        return isinstance(node, ast.JoinedStr) or isinstance(node.value, str)
    return isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Name) and node.func.id == "text")
        or (isinstance(node.func, ast.Attribute) and node.func.attr == "text"))


def violations(root: Path) -> list[Violation]:
    modules = load_modules(root)
    imports = all_imports(modules)
    return [*circle_violations(modules, imports), *direction_violations(imports),
            *size_violations(modules), *sql_violations(modules)]


def _report(found: Iterable[Violation]) -> str:
    return "\n".join(str(v) for v in found)


# --- the repository -------------------------------------------------------------------

def test_the_house_keeps_its_rules() -> None:
    found = violations(ROOT)
    assert not found, "imports or modules against the house rules:\n" + _report(found)


def test_the_checker_sees_the_whole_code() -> None:
    modules = load_modules(ROOT)
    assert {"bot.engine", "bot.cli", "scheduler.planner", "adapters.slack.app",
            "bot.flows.instruments.common"} <= set(modules)
    assert is_dialogue("bot.flows.setup") and is_dialogue("bot.privacy.chat")
    assert not is_dialogue("bot.privacy.data") and not is_dialogue("bot.store.repo")


def _short(key: tuple[str, str, str]) -> tuple[str, str, str]:
    return (key[0].split(":")[0], key[1], key[2])


# --- the checker itself, on a small tree of its own --------------------------------------

def _write(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    for package in PACKAGES:
        (root / package).mkdir(exist_ok=True)


def _rules(root: Path) -> set[tuple[str, str, str]]:
    return {_short(v.key) for v in violations(root)}


def test_checker_passes_a_tree_that_keeps_the_rules(tmp_path: Path) -> None:
    _write(tmp_path, {
        "bot/__init__.py": "",
        "bot/messages.py": "class Adapter: ...\n",
        "bot/store/__init__.py": "",
        "bot/store/repo.py": "from sqlalchemy import select\nQ = select(1)\n",
        "bot/flows/__init__.py": "",
        "bot/flows/hello.py": "from bot.store import repo\nfrom sqlalchemy.ext.asyncio import "
                              "AsyncSession\n",
        "bot/cli.py": "def run():\n    from adapters.slack import app\n"
                      "    from scheduler import runner\n",
        "scheduler/__init__.py": "",
        "scheduler/runner.py": "from bot.messages import Adapter\nfrom bot.store import repo\n",
        "adapters/__init__.py": "",
        "adapters/slack/__init__.py": "",
        "adapters/slack/app.py": "import slack_bolt\nfrom bot.flows import hello\n",
        "bot/typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                        "    from bot import cycle\n",
        "bot/cycle.py": "from bot import typed\n",
    })
    assert violations(tmp_path) == []


def test_checker_fails_on_each_kind_of_violation(tmp_path: Path) -> None:
    _write(tmp_path, {
        "bot/__init__.py": "",
        "bot/a.py": "from bot import b\n",
        "bot/b.py": "def later():\n    from bot.c import thing\n",  # deferred: still an edge
        "bot/c.py": "import bot.a\nthing = 1\n",
        "bot/helper.py": "import scheduler.runner\nfrom telegram import Bot\n"
                         "from adapters import web\n",
        "bot/big.py": "x = 1\n" * 401,
        "bot/flows/__init__.py": "",
        "bot/flows/talk.py": "from sqlalchemy import select, update\n"
                             "async def go(s):\n    await s.execute(text('delete from x'))\n",
        "bot/news/chat.py": "from sqlalchemy.dialects.postgresql import insert\n",
        "scheduler/__init__.py": "",
        "scheduler/runner.py": "from bot.flows import talk\nimport slack_sdk\n"
                               "from adapters.web import serve\nfrom bot.news.chat import x\n",
        "adapters/__init__.py": "",
        "adapters/web.py": "from scheduler.runner import go\n",
    })
    found = _rules(tmp_path)
    assert ("circle", "bot/a.py", "bot.a -> bot.b -> bot.c -> bot.a") in found
    assert {("bot-direction", "bot/helper.py", "imports scheduler.runner"),
            ("sdk", "bot/helper.py", "imports telegram"),
            ("sdk", "bot/helper.py", "imports adapters.web"),
            ("bot-direction", "bot/helper.py", "imports adapters.web"),
            ("scheduler-direction", "scheduler/runner.py", "imports bot.flows.talk"),
            ("scheduler-direction", "scheduler/runner.py", "imports bot.news.chat"),
            ("scheduler-direction", "scheduler/runner.py", "imports slack_sdk"),
            ("sdk", "scheduler/runner.py", "imports slack_sdk"),
            ("scheduler-direction", "scheduler/runner.py", "imports adapters.web"),
            ("adapters-direction", "adapters/web.py", "imports scheduler.runner"),
            ("size", "bot/big.py", "401 lines"),
            ("sql", "bot/flows/talk.py", "imports select from sqlalchemy"),
            ("sql", "bot/flows/talk.py", "imports update from sqlalchemy"),
            ("sql", "bot/flows/talk.py", "runs SQL text with .execute()"),
            ("sql", "bot/news/chat.py", "imports insert from sqlalchemy.dialects.postgresql"),
            } <= found
    message = _report(violations(tmp_path))
    assert "bot/helper.py:1: imports scheduler.runner (rule: bot-direction:" in message


def test_checker_resolves_relative_and_package_imports(tmp_path: Path) -> None:
    _write(tmp_path, {
        "bot/__init__.py": "",
        "bot/x/__init__.py": "from . import y\n",
        "bot/x/y.py": "from .. import z\n",
        "bot/z.py": "from bot.x import Y\n",  # a name from the package: an edge to it
    })
    assert _rules(tmp_path) == {
        ("circle", "bot/x/__init__.py", "bot.x -> bot.x.y -> bot.z -> bot.x")}


def test_checker_counts_the_package_that_runs_first(tmp_path: Path) -> None:
    _write(tmp_path, {
        "bot/__init__.py": "",
        "bot/news/__init__.py": "from bot.news.stats import count\n",
        "bot/news/stats.py": "from bot.sums.model import Sum\n",
        "bot/sums/__init__.py": "from bot.news.stats import count\n",
        "bot/sums/model.py": "Sum = int\n",
    })
    assert _rules(tmp_path) == {
        ("circle", "bot/news/__init__.py", "bot.news -> bot.news.stats -> bot.sums -> bot.news")}
