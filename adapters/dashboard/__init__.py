"""The dashboard of the school year for project leaders and board members, on the shared
HTTP server (docs/dashboard.md): `app` (routes, links, sessions, who may see what), `view`
(the numbers from the frozen months), `pages` (Jinja2 templates), `svg` (the chart)."""

from adapters.dashboard.app import Dashboard, login_mail, mount

__all__ = ["Dashboard", "login_mail", "mount"]
