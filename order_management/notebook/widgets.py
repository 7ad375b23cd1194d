"""The instructor's Approve / Reject buttons: a decision sent with a click while the room
watches the order's status line change."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.service import RPCError

from order_management.deadline import ANSWER_TIMEOUT_SECONDS, Deadline
from order_management.notebook.display import STATUS_POLL_SECONDS
from order_management.orders import OrderError, send_approval
from order_management.shared import OrderStatus
from order_management.workflow import OrderWorkflow


class ApprovalPanel:
    """Approve / Reject buttons for a waiting order, with a status line that refreshes.

    Display it as the last expression of a cell. The buttons call `send_approval` on the
    kernel's loop; the status line follows the order until it ends (or `refresh_for` s).
    """

    def __init__(self, handle: WorkflowHandle, refresh_for: float = 300.0) -> None:
        import ipywidgets as widgets  # a notebook-only dependency

        self.handle = handle
        self.approve_button = widgets.Button(
            description="Approve", button_style="success", icon="check"
        )
        self.reject_button = widgets.Button(
            description="Reject", button_style="danger", icon="times"
        )
        self.status_line = widgets.HTML(value=f"<b>{handle.id}</b>: …")
        self.approve_button.on_click(lambda _: self._decide(True))
        self.reject_button.on_click(lambda _: self._decide(False))
        self.widget = widgets.VBox(
            [widgets.HBox([self.approve_button, self.reject_button]), self.status_line]
        )
        self._sent: asyncio.Task[None] | None = None
        self._refresher = asyncio.get_running_loop().create_task(self._refresh(refresh_for))

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def status(self) -> str:
        """The status line's text, as the instructor sees it."""
        return self.status_line.value

    def _show(self, text: str) -> None:
        self.status_line.value = f"<b>{self.handle.id}</b>: {text}"

    def _decide(self, approved: bool) -> None:
        # A click arrives as a plain callback: schedule the signal on the kernel's loop.
        self._sent = asyncio.get_running_loop().create_task(self._send(approved))

    async def wait_for_click(self, timeout: float, default: bool | None = True) -> None:
        """Wait up to `timeout` s for a click on either button. If none came, click `default`
        (True: Approve, False: Reject, None: neither) so an unattended Run All goes on."""
        deadline = Deadline(timeout)
        while self._sent is None and not deadline.passed:
            await asyncio.sleep(0.1)
        if self._sent is None:
            if default is None:
                print(f"Nobody clicked within {timeout:g} s.")
                return
            button = self.approve_button if default else self.reject_button
            print(
                f"Nobody clicked within {timeout:g} s: clicking {button.description} "
                "for you, so the notebook can go on."
            )
            button.click()
        assert self._sent is not None
        await self._sent

    async def _send(self, approved: bool) -> None:
        try:
            await send_approval(self.handle, approved)
        except OrderError as err:
            self._show(f"not sent: {err}")
            return
        self._show(f"{'approval' if approved else 'rejection'} sent…")

    async def _refresh(self, refresh_for: float) -> None:
        deadline = Deadline(refresh_for)
        status = "unknown"
        while not deadline.passed:
            try:
                status = await asyncio.wait_for(
                    self.handle.query(OrderWorkflow.get_status), ANSWER_TIMEOUT_SECONDS
                )
            except (asyncio.TimeoutError, RPCError) as err:
                self._show(f"status unknown ({err or 'no worker answered'})")
                return
            self._show(status)
            if status in OrderStatus.FINAL:
                self.approve_button.disabled = self.reject_button.disabled = True
                return
            await asyncio.sleep(STATUS_POLL_SECONDS * 2)
        self._show(f"{status} (stopped refreshing after {refresh_for:g} s)")


def approval_panel(handle: WorkflowHandle, refresh_for: float = 300.0) -> ApprovalPanel:
    """Approve / Reject buttons and a live status line for one order (see `ApprovalPanel`)."""
    return ApprovalPanel(handle, refresh_for)
