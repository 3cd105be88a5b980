"""The one HTTP server of a process: platform webhooks and a health check.

`GET /healthz` answers 200 {"status": "ok"} when the process is ready and 503 with the
reasons when not; what "ready" means is the `health` check handed in (bot/health.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HealthCheck = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]
MAX_BODY = 1024 * 1024


class WebServer:
    """aiohttp on `host:port` (port 0 picks a free one); adapters add their routes first."""

    def __init__(self, host: str = "127.0.0.1", port: int = 3000,
                 health: HealthCheck | None = None) -> None:
        self.host = host
        self.port = port
        self.health = health
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_get("/healthz", self._health)
        self._routes = 0
        self._runner: web.AppRunner | None = None

    def add_route(self, method: str, path: str, handler: Handler) -> None:
        self.app.router.add_route(method, path, handler)
        self._routes += 1

    @property
    def needed(self) -> bool:
        """Whether any adapter wants HTTP (otherwise nothing listens)."""
        return self._routes > 0

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        logger.info("listening on http://%s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _health(self, _request: web.Request) -> web.Response:
        if self.health is None:
            return web.json_response({"status": "ok"})
        ready, body = await self.health()
        return web.json_response(body, status=200 if ready else 503)
