"""Temporal inside Jupyter: a server extension that runs the dev server, and the Web UI's proxy.

Every Jupyter server started from the workshop's environment (`jupyter lab`, JupyterHub's
`jupyterhub-singleuser`) loads this module as a server extension: the package installs
`etc/jupyter/jupyter_server_config.d/order_management.json`, which enables it. As the Jupyter
server starts, before it takes a request or starts a kernel, the extension

- starts the local Temporal dev server, unless the Temporal settings point elsewhere (a remote
  TEMPORAL_ADDRESS, an API key or TLS): gRPC on the TEMPORAL_ADDRESS port, the Web UI 1000
  above, served under `<base_url>temporal`, state under ORDER_STATE_DIR;
- sets TEMPORAL_ADDRESS (when unset) and TEMPORAL_UI_URL=`<base_url>temporal` in its own
  environment, which every kernel and terminal it starts inherits: the notebooks' links then open
  the Web UI through Jupyter, wherever Jupyter runs;
- puts the workshop's own tools (the folder of this Python: `.venv/bin`, with `temporal` and
  `python`) first on the PATH of JupyterLab's terminals, so a command a notebook prints works
  as typed there. A terminal is a login shell: /etc/profile resets PATH, and ~/.bashrc may put
  pyenv's shims in front. So the folder goes in front last, from `terminal_rc.sh`.

The dev server stops when the Jupyter server exits, and with it if it is killed (a parent-death
signal). One that a kernel restarts (notebook 05) keeps the path, from TEMPORAL_UI_URL, and is
stopped at Jupyter's exit too. One that `make server` started is reused, and left running, when
its Web UI has the same path; otherwise it is restarted with that path (its workflows are kept,
in its SQLite file) and stops with Jupyter. A server the workshop did not start is used as it
is, and the links then go to its own Web UI.

`temporal_web_ui()` is the jupyter-server-proxy entry `temporal` (the `jupyter_serverproxy_servers`
entry point): a "Temporal Web UI" tile in JupyterLab's launcher, and `<base_url>temporal/`
forwarded, behind Jupyter's own token or login, to that Web UI.
"""

from __future__ import annotations

import atexit
import os
import shlex
import sys
from logging import Logger
from pathlib import Path
from typing import TYPE_CHECKING, Any

from order_management.errors import WorkshopError
from order_management.local import config, devserver

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

WEB_UI_ROUTE = "temporal"
WEB_UI_TITLE = "Temporal Web UI"
WEB_UI_ICON = Path(__file__).with_name("temporal-web-ui.svg")
TERMINAL_RC = Path(__file__).with_name("terminal_rc.sh")


class NoLocalWebUI(WorkshopError, RuntimeError):
    """Temporal is not a dev server on this machine, so there is no Web UI here to proxy."""


def web_ui_path(base_url: str) -> str:
    """The Web UI's path under a Jupyter server at `base_url`: "/" -> "/temporal",
    "/user/alice/" -> "/user/alice/temporal"."""
    return base_url.rstrip("/") + "/" + WEB_UI_ROUTE


def temporal_web_ui() -> dict[str, Any]:
    """jupyter-server-proxy's settings for the Web UI of the local dev server."""
    settings = config.temporal_settings()
    if not settings.is_local:
        raise NoLocalWebUI(
            f"Temporal is at {settings.address}, not a dev server here: "
            f"its Web UI is {settings.ui_url}"
        )
    return {
        "port": settings.port + config.UI_PORT_OFFSET,
        # No `command`: the extension below started the server with Jupyter. Started on the
        # first click instead, kernels would find no server until someone opened the UI.
        # The UI serves under its public path, and answers a path with that prefix stripped
        # by a 308 to the doubled path, which the browser follows forever: pass it whole.
        "absolute_url": True,
        # A JupyterLab tab (the UI allows framing by its own origin), so it can sit beside
        # a notebook; the notebooks' links still open it in a browser tab.
        "new_browser_tab": False,
        "launcher_entry": {"title": WEB_UI_TITLE, "icon_path": str(WEB_UI_ICON)},
    }


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": __name__}]


def workshop_tools() -> str:
    """The folder of the workshop's `python` and `temporal`: the one this Python runs from."""
    return str(Path(sys.executable).parent)


def terminal_shell(shell: list[str], tools: str) -> list[str]:
    """`shell` (Jupyter's terminal command) with `tools` first on its PATH. A login shell
    (`-l`) runs its profile, then a `-c` that starts the interactive shell with
    `terminal_rc.sh` as its start-up file: the user's ~/.bashrc, then `tools` in front. Any
    other command is left alone (it inherits this server's PATH, `tools` first)."""
    if shell[-1:] != ["-l"]:
        return shell
    program, rc = shlex.quote(shell[0]), shlex.quote(str(TERMINAL_RC))
    interactive = (
        f"exec {program} --rcfile {rc} -i"
        if Path(shell[0]).name == "bash"
        else f"export ENV={rc}; exec {program} -i"  # a POSIX sh reads $ENV when interactive
    )
    return [*shell, "-c", f"export WORKSHOP_TOOLS={shlex.quote(tools)}; {interactive}"]


def _put_tools_first_on_path(serverapp: ServerApp) -> None:
    tools = workshop_tools()
    path = os.environ.get("PATH", "")
    if path.split(os.pathsep)[0] != tools:
        os.environ["PATH"] = tools + os.pathsep + path  # kernels and non-login terminals
    manager = serverapp.web_app.settings.get("terminal_manager")
    if manager is not None:  # terminals are enabled and their manager is built
        manager.shell_command = terminal_shell(list(manager.shell_command), tools)


def _load_jupyter_server_extension(serverapp: ServerApp) -> None:
    log = serverapp.log
    _put_tools_first_on_path(serverapp)
    try:
        settings = config.temporal_settings()
    except config.ConfigurationError as err:
        log.error("%s: no Temporal dev server started", err)
        return
    if not settings.is_local:
        log.info("Temporal is at %s: no dev server started here", settings.address)
        return
    path = web_ui_path(serverapp.base_url)
    try:
        server = _dev_server(settings, path, log)
    except devserver.DevServerError as err:
        log.error("The Temporal dev server did not start: %s", err)
        return
    # Kernels and terminals inherit the server's environment as it is when they start.
    os.environ.setdefault("TEMPORAL_ADDRESS", settings.address)
    if server is None:
        return
    os.environ["TEMPORAL_UI_URL"] = path
    log.info(
        "Temporal dev server at %s (pid %d); Web UI at %s/ (the launcher's %r tile), also %s",
        server.address,
        server.pid,
        path,
        WEB_UI_TITLE,
        server.ui_url,
    )


def _dev_server(
    settings: config.TemporalSettings, path: str, log: Logger
) -> devserver.DevServer | None:
    """The dev server at the configured port, its Web UI at `path`; None when a server the
    workshop did not start already answers there."""
    port = settings.port
    server = devserver.running(port)
    if server and server.ui_public_path == path:
        log.info("Using the Temporal dev server already running at %s", server.address)
        return server
    if server:
        log.warning(
            "Restarting the Temporal dev server at %s (pid %d) so that its Web UI "
            "answers at %s/; its workflows are kept",
            server.address,
            server.pid,
            path,
        )
        devserver.stop(port)
    elif devserver.port_answers(port):
        log.warning(
            "A Temporal server this workshop did not start answers at %s: the "
            "notebooks use it, and their Web UI links go to %s, not %s/",
            settings.address,
            settings.ui_url,
            path,
        )
        return None
    # Started from the thread that loads extensions, the main one: the parent-death signal
    # fires when the thread that started the child ends, not only when the process does.
    server = devserver.start(port, settings.namespace, ui_public_path=path, die_with_parent=True)
    atexit.register(_stop_at_exit, port, path)
    return server


def _stop_at_exit(port: int, path: str) -> None:
    """At the Jupyter server's exit: stop the dev server it started, or the one a kernel
    restarted in its place (notebook 05 does): the one whose Web UI is at this server's path."""
    server = devserver.running(port)
    if server and server.ui_public_path == path:
        devserver.stop(port)
