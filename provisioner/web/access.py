"""Who may use which part of the web app and the API (pure: no I/O).

Every route is registered from a table of `Route`s (provisioner.web.app.register), each
naming one of the groups below; a route outside the tables does not exist, and
tests/test_web_roles.py checks every route for every role through a real server.

    admin                 everything
    agent, specialist     tickets (read and act), devices (read)
    installer             extension imports, devices (read), each tenant's onboarding kit and
                          readiness board (the option-66 string is theirs to hand over); no tickets
    everyone signed in    firmware campaigns' progress (read; campaigns are planned with the CLI)
"""

from __future__ import annotations

from dataclasses import dataclass

from provisioner.accounts import ROLES


@dataclass(frozen=True)
class Access:
    roles: frozenset[str]
    refusal: str  # Spanish, shown with the 403 to everyone else


TICKETS = Access(frozenset({"agent", "specialist", "admin"}),
                 "Solo agentes, especialistas y administradores ven y atienden casos.")
IMPORTS = Access(frozenset({"installer", "admin"}), "Solo instaladores y administradores importan extensiones.")
ONBOARDING = Access(frozenset({"installer", "admin"}),
                    "Solo instaladores y administradores ven el kit de implementación y el tablero de preparación.")
DEVICES = Access(frozenset(ROLES), "")  # read only: nothing in the app changes a device
CAMPAIGNS = Access(frozenset(ROLES), "")  # read only: MACs, versions and states, no secret
SIGNED_IN = Access(frozenset(ROLES), "")  # logging out, the start page
PUBLIC = None  # no login: the login form, the OpenAPI document
# The customer portal (/portal/): no staff login at all. Its routes check the requester's own
# session and CSRF themselves (provisioner.web.portal_session); a staff cookie opens nothing there.
PORTAL = None
# Inviting a customer's staff to the portal: the people who attend the tickets.
REQUESTER_INVITES = Access(frozenset({"agent", "specialist", "admin"}),
                           "Solo agentes, especialistas y administradores invitan solicitantes al portal.")


def allowed(access: Access, role: str) -> bool:
    return role in access.roles


def home_for(role: str) -> str:
    """Where a person lands after login when no page was asked for."""
    return "/tickets" if allowed(TICKETS, role) else "/imports" if allowed(IMPORTS, role) else "/devices"
