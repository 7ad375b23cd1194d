"""`change_module`: a change to a learner's module, made from a cell and shown as a diff."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from order_management.notebook.learner_code import ModuleChangeError, change_module

MODULE = """\
class ShopOrder:
    def __init__(self) -> None:
        self.status = "started"

    async def run(self, order_id: str) -> str:
        self.status = "checking"
        await self.step(check_stock, order_id)
        return await self.step(ship_parcel, order_id)
"""
ADD_FRAUD_CHECK = {
    "await self.step(check_stock, order_id)": """
        await self.step(check_fraud, order_id)  # new
        await self.step(check_stock, order_id)""",
}


def test_the_new_lines_take_the_old_ones_indentation_and_the_diff_shows_only_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "workflow.py"
    module.write_text(MODULE)
    assert change_module(module, ADD_FRAUD_CHECK) == module
    fraud_check = "        await self.step(check_fraud, order_id)  # new\n"
    assert module.read_text() == MODULE.replace(
        "        await self.step(check_stock", fraud_check + "        await self.step(check_stock"
    )
    shown = capsys.readouterr().out
    assert "+        await self.step(check_fraud, order_id)  # new\n" in shown
    assert "class ShopOrder" not in shown  # two lines of context, not the whole module


def test_a_change_made_already_is_left_as_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "workflow.py"
    module.write_text(MODULE)
    change_module(module, ADD_FRAUD_CHECK)
    changed = module.read_text()
    change_module(module, ADD_FRAUD_CHECK)
    assert module.read_text() == changed
    assert capsys.readouterr().out.endswith("workflow.py: no change (already made)\n")


def test_save_as_leaves_the_module_as_it_was(tmp_path: Path) -> None:
    module = tmp_path / "workflow.py"
    module.write_text(MODULE)
    saved = change_module(module, ADD_FRAUD_CHECK, save_as=tmp_path / "next_stage.py")
    assert module.read_text() == MODULE
    assert "check_fraud" in saved.read_text()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"await self.step(wrap_gift, order_id)": "pass"}, "has no line `await self.step(wra"),
        ({"return await self.step(ship_parcel, order_id)": "return (1"}, "would break"),
    ],
)
def test_a_change_that_cannot_be_made_changes_nothing(
    tmp_path: Path, changes: dict[str, str], message: str
) -> None:
    module = tmp_path / "workflow.py"
    module.write_text(MODULE)
    with pytest.raises(ModuleChangeError, match=re.escape(message)):
        change_module(module, changes)
    assert module.read_text() == MODULE
