"""Every table module, imported so that `Base.metadata` knows them all (Alembic, tests).

Feature tables live in modules of their own next to `models.py`; add each one here.
"""

from bot.store import models
from bot.store.models import Base

__all__ = ["Base", "models"]
