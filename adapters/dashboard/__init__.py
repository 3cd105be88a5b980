"""The dashboard of the school year for project leaders and board members, on the shared
HTTP server (docs/dashboard.md): `app` (routes, links, sessions, who may see what), `view`
(the numbers from the frozen months), `pages` (Jinja2 templates), `svg` (the chart).

`achtje run` mounts it with `mount_on_first_use`: the routes are there from the start, and
the dashboard itself (Jinja2, its templates, the PDF writer) loads at its first request, as
few people open it and every chat message would otherwise wait for that import at start-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import web

    from adapters.dashboard.app import Dashboard

Handler = Callable[["web.Request"], Awaitable["web.StreamResponse"]]

# Method, path, and the name of the `Dashboard` handler that answers (app.py describes
# each): here, without the dashboard's imports, so the server has its routes before the
# dashboard is loaded.
ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", "/dashboard", "home"),
    ("GET", "/dashboard/login", "mail_login_page"),
    ("POST", "/dashboard/login", "mail_login"),
    ("GET", "/dashboard/login/{token}", "login_page"),
    ("POST", "/dashboard/login/{token}", "login"),
    ("POST", "/dashboard/logout", "logout"),
    ("GET", r"/dashboard/{partnership:\d{1,10}}", "page"),
    ("GET", r"/dashboard/{partnership:\d{1,10}}/summary.csv", "csv"),
    ("GET", r"/dashboard/{partnership:\d{1,10}}/summary.pdf", "pdf"),
)


def mount_on_first_use(server: Any, build: Callable[[], Dashboard]) -> None:
    """Add the dashboard's routes to the shared web server (adapters/web.py); `build` makes
    the dashboard when the first of them is asked for, once."""
    built: list[Dashboard] = []

    def route(name: str) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            if not built:  # no await since the check: one build, however many arrive
                built.append(build())
            answer: web.StreamResponse = await getattr(built[0], name)(request)
            return answer

        return handle

    for method, path, name in ROUTES:
        server.add_route(method, path, route(name))
