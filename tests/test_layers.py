"""The layers stay as the folders say: imports point inward only.

- server/core is pure: no clock, no awaits' machinery, no sockets, files or Redis, and
  nothing from the shell, the store or the cluster;
- clients (client_demo) import protocol/, never server/;
- store adapters import nothing from the shell or the cluster;
- the cluster imports nothing from the shell (server/net): it reaches the app through
  the hooks of its interface and the port server/net/app.py hands in;
- the shell and the cluster read the lobby through its read API (server/core/lobby.py),
  never its dicts or its private methods;
- the shell's pieces (sessions, dispatcher, handlers, ...) are handed narrow state,
  never the whole app;
- the one-process server never imports asyncio-redis (only what --redis-url needs does);
- no module of the server or the clients is over MAX_LINES lines (one job per module).
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

CORE_FORBIDDEN = ("asyncio", "time", "socket", "sqlite3", "websockets", "selectors",
                  "threading", "concurrent", "subprocess", "os", "importlib", "random",
                  "asyncio_redis", "server.net", "server.store", "server.cluster",
                  "server.config")
MAX_LINES = 400


def imports_of(path: pathlib.Path) -> set[str]:
    """Every module a file imports, at any depth of the file (lazy imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def breaking(folder: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        bad = sorted(name for name in imports_of(path)
                     if any(name == f or name.startswith(f + ".") for f in forbidden))
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


def test_the_core_reads_no_clock_and_touches_no_io():
    assert breaking("server/core", CORE_FORBIDDEN) == {}


def test_the_protocol_package_stands_alone():
    assert breaking("protocol", ("server", "client_demo", "asyncio", "websockets")) == {}


def test_clients_take_the_shared_model_from_protocol_not_from_the_server():
    assert breaking("client_demo", ("server",)) == {}


def test_store_adapters_import_nothing_from_the_shell_or_the_cluster():
    assert breaking("server/store", ("server.net", "server.cluster", "server.config")) == {}


def test_the_cluster_imports_nothing_from_the_shell():
    assert breaking("server/cluster", ("server.net",)) == {}


def test_the_cluster_check_names_a_cluster_module_importing_the_shell(tmp_path, monkeypatch):
    """The check itself can fail: a cluster module taking a handler from server/net."""
    (tmp_path / "server" / "cluster").mkdir(parents=True)
    (tmp_path / "server" / "cluster" / "ok.py").write_text("from server.cluster import x\n")
    (tmp_path / "server" / "cluster" / "node.py").write_text(
        "from server.net.handlers.identity import send_joined\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert breaking("server/cluster", ("server.net",)) == {
        "server/cluster/node.py": ["server.net.handlers.identity"]}


# The shell's pieces and the cluster are handed narrow records of what they use
# (server/net/state.py, SessionDeps, HandlerContext, server.cluster.AppPort...), never
# the app. Only these take the whole server:
# the app itself, shutdown (which stops all of it) and the transport, whose `app` is
# the two-method port App.
WHOLE_APP_ALLOWED = ("server/net/app.py", "server/net/shutdown.py", "server/net/transport/")


def app_handed_around(paths) -> list[str]:
    """Every parameter named `app` or `server`, and every `.app`, in `paths`."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.arg) and node.arg in ("app", "server")
                    or isinstance(node, ast.Attribute) and node.attr == "app"):
                found.append(f"{path.relative_to(path.parents[1])}:{node.lineno} app")
    return sorted(found)


def test_the_shell_s_pieces_and_the_cluster_are_handed_narrow_state_not_the_app():
    """The cluster's record is server.cluster.AppPort."""
    paths = [path for folder in ("net", "cluster")
             for path in sorted((ROOT / "server" / folder).rglob("*.py"))
             if not str(path.relative_to(ROOT)).startswith(WHOLE_APP_ALLOWED)]
    assert app_handed_around(paths) == []


def test_the_narrow_state_check_names_a_piece_that_takes_the_app(tmp_path):
    """The check itself can fail."""
    (tmp_path / "pkg").mkdir()
    module = tmp_path / "pkg" / "s.py"
    module.write_text("class S:\n    def __init__(self, app):\n        self.app = app\n"
                      "def handler(ctx, conn, req):\n    return ctx.server_ms\n")
    assert app_handed_around([module]) == ["pkg/s.py:2 app", "pkg/s.py:3 app"]


# The lobby's parts (server/core/lobby.py), and the dicts they replaced.
LOBBY_STATE = {"rooms", "seats", "outbox", "seated", "watching", "codes", "watch_codes",
               "direct", "to_save"}


def lobby_internals_read(paths) -> list[str]:
    """Every `lobby.<dict>` or `lobby._<private>` (of a name or attribute `lobby`)."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Attribute):
                continue
            owner = node.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
            if name == "lobby" and (node.attr in LOBBY_STATE or node.attr.startswith("_")):
                found.append(f"{path.relative_to(path.parents[1])}:{node.lineno} {node.attr}")
    return sorted(found)


def test_the_shell_reads_the_lobby_only_through_its_api():
    paths = [*sorted((ROOT / "server" / "net").rglob("*.py")),
             *sorted((ROOT / "server" / "cluster").rglob("*.py")), ROOT / "server" / "admin.py"]
    assert lobby_internals_read(paths) == []


def test_the_lobby_check_names_a_read_of_its_dicts(tmp_path):
    """The check itself can fail."""
    (tmp_path / "pkg").mkdir()
    module = tmp_path / "pkg" / "h.py"
    module.write_text("x = app.lobby.seated.get(p)\nlobby._host_only(p)\nlobby.room_of(p)\n"
                      "self.lobby.seats.room_of(p)\n")
    assert lobby_internals_read([module]) == ["pkg/h.py:1 seated", "pkg/h.py:2 _host_only",
                                              "pkg/h.py:4 seats"]


def test_the_walk_sees_a_forbidden_import(tmp_path):
    """The check itself can fail: a lazy `import time` inside a function is found."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    import time\n    from server.net import app\n")
    assert imports_of(module) >= {"time", "server.net"}


def too_long(root: pathlib.Path, folders: tuple[str, ...], max_lines: int) -> dict[str, int]:
    """The .py files under `folders` of `root` over `max_lines` lines, with their length."""
    found = {}
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > max_lines:
                found[str(path.relative_to(root))] = lines
    return found


def test_no_module_of_the_server_or_the_clients_is_over_400_lines():
    over = too_long(ROOT, ("server", "client_demo"), MAX_LINES)
    assert not over, f"over {MAX_LINES} lines, split these by job: {over}"


def test_the_length_check_names_a_long_module_and_its_length(tmp_path):
    """The check itself can fail."""
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "short.py").write_text("x = 1\n" * 3)
    (tmp_path / "pkg" / "sub" / "long.py").write_text("x = 1\n" * 5)
    assert too_long(tmp_path, ("pkg",), 4) == {"pkg/sub/long.py": 5}


def test_a_server_without_redis_never_imports_asyncio_redis():
    code = ("import sys\n"
            "from server.net.app import TyperaceServer\n"
            "import server.__main__\n"
            "print('asyncio_redis' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "False"


def test_a_running_server_without_redis_never_loads_the_redis_adapter(tmp_path):
    """Started, serving a client and stopped: a lazy import on any of those paths
    would show here, where importing the modules alone would not."""
    code = (
        "import asyncio, sys\n"
        "from client_demo.client import Client\n"
        "from server.config import load_config\n"
        "from server.net.app import TyperaceServer\n"
        "async def main():\n"
        f"    server = TyperaceServer(load_config(['--port', '0', '--db', {str(tmp_path / 't.db')!r}]))\n"
        "    await server.start()\n"
        "    client = await Client.connect(f'ws://127.0.0.1:{server.port}/ws')\n"
        "    await client.hello('Ann')\n"
        "    await client.request({'type': 'practice'})\n"
        "    await client.close()\n"
        "    await server.stop()\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if 'redis' in m))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True).stdout.strip()
    assert out == "[]"
