"""The engine's view of the shop, sliced out of the loaded configuration by the hub."""

from __future__ import annotations

from pathlib import Path

from hub.escalation.scene import EvidenceSettings
from hub.escalation.site import EscalationSite
from tests.escalation.conftest import load, write_config


def test_the_site_view_holds_what_an_escalation_says(tmp_path: Path) -> None:
    config = load(write_config(tmp_path, {}))
    site = EscalationSite.from_config(config)
    assert (site.name, site.address, site.departement, site.timezone) == (
        "Bijouterie Marchal",
        "14 rue Nationale, 37000 Tours",
        "37",
        "Europe/Paris",
    )
    assert dict(site.zone_names) == {
        "comptoir": "Comptoir de vente",
        "vitrine": "Vitrine rue",
        "coffre": "Coffre",
    }
    # The cameras covering each zone, in the file's order; none for an unknown zone.
    assert site.cameras_of("vitrine") == ("cam-comptoir", "cam-vitrine")
    assert site.cameras_of("coffre") == ("cam-coffre",)
    assert site.cameras_of("cave") == ()
    assert site.cameras_of(None) == ()
    # Only the panel with a zone wired to hold-up buttons.
    assert site.holdup_devices == frozenset({"centrale"})
    # What the camera rule asks: each zone's risk, the zones a camera covers, and the
    # panels whose partitions say a zone is armed (every one for a zone none maps).
    assert dict(site.zone_risks) == {"comptoir": "high", "vitrine": "high", "coffre": "high"}
    assert site.zones_of("cam-comptoir") == ("comptoir", "vitrine")
    assert site.zones_of("cam-nowhere") == ()
    assert site.devices_of("comptoir") == ("centrale",)
    assert site.devices_of("coffre") == ("centrale", "lecteur")
    assert site.devices == ("centrale", "lecteur")


def test_the_evidence_settings_come_from_the_cameras_and_the_journal(tmp_path: Path) -> None:
    config = load(write_config(tmp_path, {}))
    evidence = EvidenceSettings.of(config.cameras, config.journal.path)
    assert dict(evidence.cameras) == {"cam-comptoir": 30, "cam-vitrine": 30, "cam-coffre": 20}
    assert evidence.journal == str(config.journal.path)
