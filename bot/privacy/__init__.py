"""A member's data rights (export, erasure) and the retention job, for chat and CLI alike."""

from bot.privacy.data import ErasureReport, erase_member, export_json, export_member
from bot.privacy.retention import RetentionReport, apply_retention

__all__ = [
    "ErasureReport",
    "RetentionReport",
    "apply_retention",
    "erase_member",
    "export_json",
    "export_member",
]
