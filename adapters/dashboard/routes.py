"""The dashboard's routes: method, path, and the name of the `Dashboard` handler that
answers (adapters/dashboard/app.py describes each). A table of its own, without the
dashboard's imports, so the server can list the routes before the dashboard is loaded."""

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
