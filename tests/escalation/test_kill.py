"""kill -9 in the middle of a burst of hold-ups: after a restart, every hold-up that
reached the hub reaches the referent (at least once; the receiver dedupes by key)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from hub.journal import read_entries
from tests.escalation.conftest import SECRET_37, Receiver, free_port

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
site:
  name: Bijouterie Marchal
  address: 14 rue Nationale, 37000 Tours
  departement: "37"
  timezone: Europe/Paris
zones:
  - {{id: comptoir, name: Comptoir, risk: high}}
devices:
  - id: centrale
    type: sim-panel
    settings: {{interval: {interval}, holdup_zone: 1}}
    zones:
      1: {{zone: comptoir, type: holdup}}
contacts:
  - id: referent-37
    name: Référent sûreté
    role: local_referent
    webhook: {{url: "{url}", secret: !secret referent}}
escalation:
  ladder: [{{contacts: [referent-37], ack_deadline: 300}}]
  fold_window: 0
  webhook: {{timeout: 1, backoff_initial: 0.05, backoff_max: 0.3}}
  high_stock: {{calendar: false}}  # today's date must decide nothing here
http: {{port: {port}}}
journal: {{path: journal.db}}
"""


def start_hub(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECRIN_")}
    with log.open("ab") as stream:
        return subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "run", "-c", str(config)],
            cwd=ROOT,
            env=env,
            stdout=stream,
            stderr=stream,
        )


def journaled_holdups(journal: Path) -> int:
    count = 0
    for entry in read_entries(journal):
        data = entry.data()
        if data["type"] == "AlarmSignal" and data["kind"] == "holdup" and not data["restore"]:
            count += 1
    return count


def outbox_escalations(outbox: Path) -> set[str]:
    with sqlite3.connect(f"file:{outbox}?mode=ro", uri=True) as conn:
        return {str(i) for (i,) in conn.execute("SELECT id FROM escalations")}


async def test_sigkill_mid_burst_loses_no_holdup(tmp_path: Path) -> None:
    receiver = await Receiver(SECRET_37).start()
    receiver.status = 503  # nothing gets through before the kill
    (tmp_path / "secrets.yaml").write_text(f"referent: {SECRET_37}\n")
    port = free_port()
    burst = tmp_path / "shop.yaml"
    burst.write_text(CONFIG.format(interval=0.05, url=receiver.url, port=port))
    quiet = tmp_path / "shop-quiet.yaml"  # same shop, same files: no more hold-ups
    quiet.write_text(CONFIG.format(interval=3600, url=receiver.url, port=port))
    log = tmp_path / "hub.log"
    process = start_hub(burst, log)
    try:
        async with asyncio.timeout(30):
            while len({r.data["id"] for r in receiver.requests}) < 6:
                assert process.poll() is None, log.read_text()
                await receiver.wait_for(count=len(receiver.requests) + 1, timeout=30)
        process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(process.wait, 10)
        holdups = journaled_holdups(tmp_path / "journal.db")
        assert holdups >= 6
        assert receiver.delivered() == []

        receiver.status = 200
        process = start_hub(quiet, log)

        def delivered_ids() -> set[str]:
            return {r.data["id"] for r in receiver.delivered()}

        async with asyncio.timeout(30):
            while not delivered_ids():
                assert process.poll() is None, log.read_text()
                await receiver.wait_for(count=len(receiver.requests) + 1, timeout=30)
        # The outbox is written while the journal writes the signal: a kill between the
        # two commits leaves a hold-up in the outbox only, which the restart journals
        # before it delivers anything.
        journaled = journaled_holdups(tmp_path / "journal.db")
        assert journaled >= holdups
        async with asyncio.timeout(30):
            while len(delivered_ids()) < journaled:
                assert process.poll() is None, log.read_text()
                await receiver.wait_for(count=len(receiver.requests) + 1, timeout=30)
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        await receiver.stop()
    # Every hold-up became one escalation, journaled and delivered.
    escalations = outbox_escalations(tmp_path / "ecrin-outbox.db")
    assert len(escalations) == journaled == journaled_holdups(tmp_path / "journal.db")
    assert delivered_ids() == escalations
    assert all(r.verified for r in receiver.requests)
    # At least once: a duplicate carries the same idempotency key as the original.
    by_key: dict[str, bytes] = {}
    for request in receiver.delivered():
        assert by_key.setdefault(request.key, request.body) == request.body
