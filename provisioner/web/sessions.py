"""Login sessions and API tokens against the database (adapter)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from provisioner.db.models import AppUser, WebSession
from provisioner.accounts import check_password, new_token, token_digest

SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    display_name: str
    role: str
    csrf_token: str | None = None  # set for browser sessions; API calls need none

    @property
    def is_specialist(self) -> bool:
        return self.role in ("specialist", "admin")


def _as_aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def login(sessions: sessionmaker[Session], username: str, password: str, now: datetime) -> tuple[str, CurrentUser] | None:
    """Check a password; on success open a session and return (cookie token, user)."""
    with sessions.begin() as session:
        user = session.scalar(select(AppUser).where(AppUser.username == username, AppUser.active.is_(True)))
        # The password is checked even without a user (against a stand-in): equal time for both.
        if not check_password(password, user.password_hash if user else None) or user is None:
            return None
        token, csrf = new_token(), new_token()
        session.execute(delete(WebSession).where(WebSession.expires_at < now))
        session.add(
            WebSession(token_digest=token_digest(token), user_id=user.id, csrf_token=csrf,
                       created_at=now, expires_at=now + SESSION_LIFETIME)
        )
        return token, CurrentUser(user.id, user.username, user.display_name, user.role, csrf)


def user_for_session(sessions: sessionmaker[Session], token: str, now: datetime) -> CurrentUser | None:
    with sessions() as session:
        row = session.execute(
            select(WebSession, AppUser)
            .join(AppUser, AppUser.id == WebSession.user_id)
            .where(WebSession.token_digest == token_digest(token), AppUser.active.is_(True))
        ).first()
        if row is None or _as_aware(row.WebSession.expires_at) <= now:
            return None
        return CurrentUser(row.AppUser.id, row.AppUser.username, row.AppUser.display_name, row.AppUser.role,
                           row.WebSession.csrf_token)


def user_for_api_token(sessions: sessionmaker[Session], token: str) -> CurrentUser | None:
    with sessions() as session:
        user = session.scalar(
            select(AppUser).where(AppUser.api_token_digest == token_digest(token), AppUser.active.is_(True))
        )
        return CurrentUser(user.id, user.username, user.display_name, user.role) if user else None


def logout(sessions: sessionmaker[Session], token: str) -> None:
    with sessions.begin() as session:
        session.execute(delete(WebSession).where(WebSession.token_digest == token_digest(token)))
