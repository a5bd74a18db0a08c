"""Writes that every config-changing command shares."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from provisioner.db.models import ConfigVersion


def bump_config_version(session: Session) -> None:
    """Mark rendered configs stale, in the caller's transaction (cross-process cache invalidation)."""
    session.execute(update(ConfigVersion).where(ConfigVersion.id == 1).values(version=ConfigVersion.version + 1))
