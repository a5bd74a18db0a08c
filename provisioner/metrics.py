"""Prometheus metrics of a server process, served at `/metrics` (adapter).

Multi-process: `provisioner serve --workers N` runs N processes (and a ticket worker
process each). prometheus-client's multiprocess mode keeps every process's values in
files under PROMETHEUS_MULTIPROC_DIR, and a scrape of any worker adds them up. The
variable must be set before prometheus_client is first imported: `provisioner serve` does
it (provisioner.metrics_files) before it imports the server; an operator may set it
(systemd: RuntimeDirectory=, deploy/provisioner.service). Without it (tests that build
the app in their own process) each process counts for itself.

Labels are bounded sets only: vendor (the registered vendors, or "unknown"), protocol,
status, finding kind, where a database error happened. Never a MAC, an address, a tenant
key or a slug: cardinality stays fixed, and nothing secret reaches a scraper.

Who may scrape: addresses in PROVISIONER_METRICS_NETWORKS (default loopback), or anyone
sending `Authorization: Bearer <PROVISIONER_METRICS_TOKEN>` when that is set
(`allowed_to_scrape`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from ipaddress import ip_address

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import REGISTRY, multiprocess

from provisioner.accounts import same_secret
from provisioner.forwarded import Network
from provisioner.metrics_files import MULTIPROC_ENV
from provisioner.vendors import VENDORS

CONTENT_TYPE = CONTENT_TYPE_LATEST
UNKNOWN = "unknown"
_VENDORS = frozenset(VENDORS)

CONFIGS = Counter("provisioner_configs_served", "Config requests answered, by vendor, protocol and status "
                  "(200 served, 404 not served: unknown, banned or unwritable; 500 failed)",
                  ["vendor", "protocol", "status"])
CONFIG_SECONDS = Histogram(
    "provisioner_config_seconds", "Time to answer a config request (waiting for the database included, "
    "sending the body excluded), by protocol", ["protocol"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
FINDINGS = Counter("provisioner_findings", "Findings judged on served configs, by kind", ["kind"])
TICKETS_OPENED = Counter("provisioner_tickets_opened", "Device tickets opened by the ticket intake")
INTAKE_DEPTH = Gauge("provisioner_intake_queue_depth", "Phone observations waiting for the ticket writer",
                     multiprocess_mode="livesum")
DATABASE_ERRORS = Counter("provisioner_database_errors", "Database work that failed, by where", ["where"])
BANS = Counter("provisioner_bans", "Addresses banned for too many misses")

DATABASE_WHERE = frozenset({"directory", "tickets", "sightings", "bans"})


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def config_answered(protocol: str, vendor: str | None, status: int, findings: Iterable[str], started: float) -> None:
    """Count one config request (hot path: a few microseconds)."""
    CONFIGS.labels(vendor if vendor in _VENDORS else UNKNOWN, protocol, str(status)).inc()
    CONFIG_SECONDS.labels(protocol).observe(time.perf_counter() - started)
    for kind in findings:
        FINDINGS.labels(kind).inc()


def database_error(where: str) -> None:
    DATABASE_ERRORS.labels(where if where in DATABASE_WHERE else UNKNOWN).inc()


def exposition() -> bytes:
    """The text a scrape gets: every process's values in multiprocess mode (blocking: reads files)."""
    if not multiprocess_mode():
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def process_ended(pid: int | None = None) -> None:
    """Drop an ended process's live gauges (its counters stay: totals never go down)."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(pid or os.getpid())  # type: ignore[no-untyped-call]


def allowed_to_scrape(source_ip: str, authorization: str, networks: tuple[Network, ...], token: str) -> bool:
    """From a trusted network, or with the metrics token (pure)."""
    if token and authorization.lower().startswith("bearer ") and same_secret(authorization[7:].strip(), token):
        return True
    try:
        address = ip_address(source_ip)
    except ValueError:
        return False
    return any(address in network for network in networks)
