"""Every table module, imported so that `Base.metadata` knows them all (Alembic, tests).

Feature tables live in modules of their own next to `models.py`; add each one here.
"""

from bot.store import binding as binding_tables
from bot.store import dashboard as dashboard_tables
from bot.store import instruments as instrument_tables
from bot.store import limits as limit_tables
from bot.store import matrix as matrix_tables
from bot.store import models
from bot.store import nudges as nudge_tables
from bot.store import privacy as privacy_tables
from bot.store import schedule as schedule_tables
from bot.store import setup as setup_tables
from bot.store import slack as slack_tables
from bot.store import summary as summary_tables
from bot.store import teams as teams_tables
from bot.store import telegram as telegram_tables
from bot.store.models import Base

__all__ = [
    "Base",
    "binding_tables",
    "dashboard_tables",
    "instrument_tables",
    "limit_tables",
    "matrix_tables",
    "models",
    "nudge_tables",
    "privacy_tables",
    "schedule_tables",
    "setup_tables",
    "slack_tables",
    "summary_tables",
    "teams_tables",
    "telegram_tables",
]
