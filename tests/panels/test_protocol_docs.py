"""The protocol pages print the same mapping tables as the code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from plugins.panels.ad2 import ad2_keypad_markdown
from plugins.panels.contact_id import CONTACT_ID_CODES, contact_id_table_markdown
from plugins.panels.dsc_it100 import IT100_MESSAGES, it100_messages_markdown
from plugins.panels.sia_dc09 import SIA_CODES, sia_codes_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs" / "protocols"

PAGES: dict[str, Callable[[], str]] = {
    "contact-id.md": contact_id_table_markdown,
    "dsc-it100.md": it100_messages_markdown,
    "ad2.md": ad2_keypad_markdown,
    "sia-dc09.md": sia_codes_markdown,
}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_prints_the_table_from_the_code(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    table = PAGES[page]()
    assert table in text, f"docs/protocols/{page} is out of date: paste {PAGES[page].__name__}()"


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_leaves_room_for_the_device_settings(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    assert "## Wiring and settings\n\nSee the device settings below." in text


def test_tables_list_every_entry() -> None:
    for code in CONTACT_ID_CODES:
        assert f"| {code} |" in contact_id_table_markdown()
    for command in IT100_MESSAGES:
        assert f"| {command} |" in it100_messages_markdown()
    for code in SIA_CODES:
        assert f"| {code} |" in sia_codes_markdown()
