"""The instructor's view: every attendee at a glance, and who is stuck, refreshed every few s.

A JupyterHub service (`/services/instructor/`, started by the hub, linked from its admin page)
behind the hub's login: only a user with `access:services`, which JupyterHub gives admins
alone, gets past its OAuth, so no attendee can open it. For each attendee it shows

- whether their server is up (the hub's API);
- their current notebook, and the exercises they passed and the notebooks they finished
  against the agenda (their progress workflow's memo, see order_management/progress; the
  agenda via `agenda()`);
- STUCK, each with a link to that attendee's Web UI on the workflow: a workflow whose
  workflow task keeps failing, an order waiting on a task queue no worker polls, or the last
  one-line error they saw.

It reads each attendee's Temporal as root: their own dev server (root may pass the room's
firewall) or their namespace on the room's shared server.

    python -m order_management.hosting.room.dashboard   (the hub runs it)
"""

from __future__ import annotations

import asyncio
import html
import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from temporalio.client import Client
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.ioloop import IOLoop

from order_management.hosting.room.attendees import port_of
from order_management.hosting.room.settings import room_settings, system_user
from order_management.hosting.room.stuck import RPC_TIMEOUT, progress_memo, why_stuck
from order_management.local import config
from order_management.notebook.agenda import agenda
from order_management.progress.table import DONE
from order_management.progress.workflow import PROGRESS_WORKFLOW_ID

SERVICE_NAME = "instructor"
REFRESH_SECONDS = 5
RECENT_WORKFLOWS = 20


@dataclass
class Stuck:
    """One reason an attendee is stuck, and the Web UI page that shows it."""

    reason: str
    link: str | None


@dataclass
class AttendeeView:
    name: str
    server_up: bool
    current: str | None = None
    passed: dict[str, int] = field(default_factory=dict)
    finished: list[str] = field(default_factory=list)
    stuck: list[Stuck] = field(default_factory=list)
    unreachable: str | None = None


class Room:
    """The room as the dashboard reads it: the hub's users, and each one's Temporal."""

    def __init__(self) -> None:
        self.settings = room_settings()
        self.shared = bool(os.environ.get("TEMPORAL_ADDRESS"))
        self.clients: dict[str, Client] = {}

    async def attendees(self) -> list[AttendeeView]:
        users = await hub_api("users")
        views = [
            AttendeeView(name=user["name"], server_up=bool(user.get("servers")))
            for user in users
            if not user.get("admin") and user.get("kind", "user") == "user"
        ]
        await asyncio.gather(*(self._fill(view) for view in views))
        return sorted(views, key=lambda view: view.name)

    async def _fill(self, view: AttendeeView) -> None:
        try:
            client = await self._client(view.name)
            await asyncio.wait_for(self._read(client, view), 10)
        except Exception as err:  # an attendee's server down must not hide the others
            view.unreachable = str(err).splitlines()[0][:120] if str(err) else type(err).__name__

    async def _client(self, name: str) -> Client:
        if name not in self.clients:
            if self.shared:
                temporal = config.temporal_settings()
                self.clients[name] = await Client.connect(
                    temporal.address,
                    namespace=self.settings.namespace(name),
                    **temporal.connect_options,
                )
            else:
                port = port_of(self.settings, system_user(name))
                self.clients[name] = await Client.connect(f"127.0.0.1:{port}")
        return self.clients[name]

    async def _read(self, client: Client, view: AttendeeView) -> None:
        progress = await progress_memo(client)
        if progress:
            view.current = progress.get("current")
            view.passed = {name: len(tasks) for name, tasks in progress["passed"].items()}
            view.finished = progress.get("finished", [])
            if progress.get("last_error"):
                view.stuck.append(Stuck(f"last error: {progress['last_error']}", None))
        async for execution in client.list_workflows(
            "ExecutionStatus = 'Running'", limit=RECENT_WORKFLOWS, rpc_timeout=RPC_TIMEOUT
        ):
            if execution.id == PROGRESS_WORKFLOW_ID:
                continue
            reason = await why_stuck(client, execution.id, execution.task_queue)
            if reason:
                view.stuck.append(Stuck(reason, self.workflow_link(view.name, execution.id)))

    def workflow_link(self, name: str, workflow_id: str) -> str:
        """The attendee's Web UI on one workflow, as the instructor opens it."""
        if self.shared:
            temporal = config.temporal_settings()
            namespace = self.settings.namespace(name)
            base = temporal.ui_url
        else:
            namespace = config.DEFAULT_NAMESPACE
            base = f"/user/{name}/temporal"
        return f"{base}/namespaces/{quote(namespace)}/workflows/{quote(workflow_id)}"


async def hub_api(path: str) -> Any:
    """GET the hub's REST API with this service's token."""
    request = HTTPRequest(
        url_path_join(os.environ["JUPYTERHUB_API_URL"], path),
        headers={"Authorization": f"token {os.environ['JUPYTERHUB_API_TOKEN']}"},
    )
    response = await AsyncHTTPClient().fetch(request)
    return json.loads(response.body)


def page(views: list[AttendeeView], sessions: list[Any]) -> str:
    """The view as one HTML page, which reloads itself every REFRESH_SECONDS."""
    core = [session.name for session in sessions if session.track == "core"]
    rows = []
    for view in views:
        passed = sum(view.passed.values())
        agenda_cell = (
            " ".join(
                f"<span title='{html.escape(name)}'>{name[:2]}:{view.passed.get(name, 0)}"
                f"{DONE if name in view.finished else ''}</span>"
                for name in core
            )
            or "(no agenda metadata)"
        )
        stuck = "".join(
            "<li class='stuck'>STUCK: "
            + (
                f"<a href='{html.escape(item.link)}' target='_blank'>{html.escape(item.reason)}</a>"
                if item.link
                else html.escape(item.reason)
            )
            + "</li>"
            for item in view.stuck
        )
        if view.unreachable:
            stuck += f"<li>Temporal not reachable: {html.escape(view.unreachable)}</li>"
        rows.append(
            f"<tr data-attendee='{html.escape(view.name)}'><td>{html.escape(view.name)}</td>"
            f"<td>{'up' if view.server_up else 'down'}</td>"
            f"<td>{html.escape(view.current or '-')}</td>"
            f"<td>{passed} ({agenda_cell})</td><td><ul>{stuck}</ul></td></tr>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<meta http-equiv='refresh' content='{REFRESH_SECONDS}'>"
        "<title>Instructor's view</title><style>body{font-family:sans-serif}"
        "td{border-bottom:1px solid #ddd;padding:4px 8px;vertical-align:top}"
        ".stuck{color:#b00}</style></head><body><h1>Instructor's view</h1>"
        f"<p>{len(views)} attendees; refreshed every {REFRESH_SECONDS} s.</p>"
        "<table><tr><th>attendee</th><th>server</th><th>notebook</th>"
        f"<th>exercises passed (core notebooks; {DONE} finished)</th><th>stuck</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )


class DashboardHandler(HubOAuthenticated, web.RequestHandler):
    def initialize(self, room: Room) -> None:
        self.room = room

    @web.authenticated
    async def get(self) -> None:
        views = await self.room.attendees()
        self.write(page(views, agenda(self.room.settings.notebooks)))


def main() -> None:
    prefix = os.environ["JUPYTERHUB_SERVICE_PREFIX"]
    room = Room()
    app = web.Application(
        [
            (prefix, DashboardHandler, {"room": room}),
            (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
        ],
        cookie_secret=os.urandom(32),
    )
    url = os.environ["JUPYTERHUB_SERVICE_URL"].rsplit(":", 1)
    app.listen(int(url[1].split("/")[0]), "127.0.0.1")
    IOLoop.current().start()


if __name__ == "__main__":
    main()
