"""Configuration: where Temporal is, which task queue to use, and where local state lives.

The Temporal connection comes from Temporal's standard client environment configuration
(`temporalio.envconfig`): `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`,
`TEMPORAL_TLS_*`, `TEMPORAL_PROFILE` and the TOML profile file. With none of them set, it is
the local dev server at localhost:7233, namespace "default". The same code therefore runs
unchanged against a self-hosted cluster or Temporal Cloud.

Web UI links go to `TEMPORAL_UI_URL` when it is set. Under Jupyter it is a path on the Jupyter
server, such as `/temporal` or `/user/alice/temporal` (order_management/hosting/ sets it), so a
link opens the proxied UI from whatever address the browser reached Jupyter at. Elsewhere it is
the dev server's own UI, http://localhost:8233.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from temporalio.envconfig import ClientConfigProfile

from order_management.shared import TASK_QUEUE

DEFAULT_ADDRESS = "localhost:7233"
DEFAULT_NAMESPACE = "default"
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")
# The dev server serves its Web UI 1000 ports above gRPC (7233 -> 8233), as `temporal` does.
UI_PORT_OFFSET = 1000

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # the repository: local/ is two below


class ConfigurationError(RuntimeError):
    """The Temporal configuration (environment or profile file) cannot be used."""


@dataclass(frozen=True)
class TemporalSettings:
    """Where to reach Temporal, as resolved from the environment configuration."""

    address: str
    namespace: str
    connect_options: dict[str, Any]
    """Keyword arguments for `Client.connect` (TLS, API key, metadata) besides the two above."""

    @property
    def host(self) -> str:
        return self.address.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1])

    @property
    def is_local(self) -> bool:
        """True when the address is this machine and no credentials are set, so a dev server
        (plain gRPC, no auth) may be started for it."""
        secured = "api_key" in self.connect_options or self.connect_options.get("tls")
        return self.host in LOCAL_HOSTS and not secured

    @property
    def ui_url(self) -> str:
        override = os.environ.get("TEMPORAL_UI_URL")
        if override:
            return override.rstrip("/")
        if self.address.endswith(".tmprl.cloud:7233"):
            return "https://cloud.temporal.io"
        return f"http://localhost:{self.port + UI_PORT_OFFSET}"

    def workflow_url(self, workflow_id: str) -> str:
        """The Web UI page of one workflow."""
        return f"{self.ui_url}/namespaces/{quote(self.namespace)}/workflows/{quote(workflow_id)}"


def ui_public_path() -> str | None:
    """The path a local dev server serves its Web UI under: TEMPORAL_UI_URL when that is a path
    (Jupyter's proxy forwards it there, whole), otherwise None, the UI's root."""
    url = os.environ.get("TEMPORAL_UI_URL", "")
    return url.rstrip("/") if url.startswith("/") else None


def temporal_settings() -> TemporalSettings:
    """Read the client environment configuration, with the local defaults filled in."""
    try:
        profile = ClientConfigProfile.load()
    except Exception as err:  # the Rust loader raises its own ConfigError type
        raise ConfigurationError(f"Temporal client configuration: {err}") from None
    options: dict[str, Any] = dict(profile.to_client_connect_config())
    address = options.pop("target_host", None) or DEFAULT_ADDRESS
    namespace = options.pop("namespace", None) or DEFAULT_NAMESPACE
    if ":" not in address:
        raise ConfigurationError(f"Temporal address {address!r} needs a port, e.g. localhost:7233")
    return TemporalSettings(address=address, namespace=namespace, connect_options=options)


def task_queue() -> str:
    """The task queue workers poll and starters use (`ORDER_TASK_QUEUE` overrides it)."""
    return os.environ.get("ORDER_TASK_QUEUE") or TASK_QUEUE


def state_dir() -> Path:
    """The folder for local state: dev server database, pid files, the ledger."""
    return Path(os.environ.get("ORDER_STATE_DIR") or PROJECT_ROOT / ".temporal")


def ledger_path() -> Path:
    return Path(os.environ.get("ORDER_LEDGER_DB") or state_dir() / "ledger.db")
