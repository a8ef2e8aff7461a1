"""``ecrin token new``: a token shown once, and the hash line for the configuration."""

from __future__ import annotations

import io
import re
from pathlib import Path

import aiohttp

from hub.escalation.model import Contact, ContactRole
from hub.http import create_app, serve, token_new_main
from hub.http.tokens import hash_token, is_token_sha256
from tests.escalation.conftest import engine_for
from tests.http.conftest import shop_config


def run(contact_id: str) -> tuple[int, str]:
    out = io.StringIO()
    status = token_new_main(contact_id, out)
    return status, out.getvalue()


def test_prints_a_token_once_and_the_line_to_paste() -> None:
    status, text = run("referent-37")
    assert status == 0
    tokens = re.findall(r"\becrin_[A-Za-z0-9_-]{43}\b", text)
    assert len(tokens) == 1
    lines = [line.strip() for line in text.splitlines() if "token_sha256:" in line]
    assert lines == [f"token_sha256: {hash_token(tokens[0])}"]
    assert is_token_sha256(hash_token(tokens[0]))
    assert "'referent-37'" in text


def test_each_run_makes_a_new_token() -> None:
    assert run("a")[1] != run("a")[1]


def test_a_bad_contact_id_is_refused() -> None:
    for bad in ("", "has space", "x" * 65, "-dash", "é"):
        status, text = run(bad)
        assert status == 2
        assert text.startswith("error: ")
        assert "token_sha256" not in text


async def test_the_printed_token_opens_the_api_for_its_contact(tmp_path: Path) -> None:
    _, text = run("referent-37")
    token = re.findall(r"\becrin_\S+", text)[0]
    digest = text.rsplit("token_sha256: ", 1)[1].strip()
    contact = Contact(
        id="referent-37", name="Référent", role=ContactRole.LOCAL_REFERENT, token_sha256=digest
    )
    async with engine_for(shop_config(tmp_path, [contact])) as engine:
        app = create_app(engine)
        async with serve(app) as url, aiohttp.ClientSession() as session:
            headers = {"Authorization": f"Bearer {token}"}
            async with session.get(url + "/api/v1/me", headers=headers) as response:
                assert response.status == 200
                assert (await response.json())["id"] == "referent-37"
