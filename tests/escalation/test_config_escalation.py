"""The contacts: and escalation: sections: typed values, and every mistake at once."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.config import ConfigError, ConfigIssue, load_config
from hub.config.escalation import DEFAULT_CALENDAR
from hub.escalation.model import ContactRole
from tests.escalation.conftest import SITE, plugin_manager

CATALOGUE = plugin_manager().device_types()
TOKEN = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def write(directory: Path, text: str, secrets: str = "") -> Path:
    path = directory / "shop.yaml"
    path.write_text(SITE + textwrap.dedent(text), encoding="utf-8")
    (directory / "secrets.yaml").write_text(secrets or "hook: a-long-enough-secret-value\n")
    (directory / "secrets.yaml").chmod(0o600)  # as an installer leaves it
    return path


def issues(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, CATALOGUE)
    return [str(i).replace(f"{path}:", "") for i in caught.value.issues]


def test_full_section_loads_into_typed_values(tmp_path: Path) -> None:
    (tmp_path / "shop-calendar.yaml").write_text(
        "periods:\n  - {name: Soldes, start: {month: 1, day: 7}, end: {month: 1, day: 31}}\n"
    )
    path = write(
        tmp_path,
        f"""\
        contacts:
          - id: referent-37
            name: Référent sûreté, DDSP 37
            role: local_referent
            webhook:
              url: https://referent.example/ecrin
              secret: !secret hook
            token_sha256: "{TOKEN.upper()}"
          - id: police-municipale
            name: Police municipale de Tours
            role: municipal_police
          - {{id: pose, name: Installateur, role: installer, scopes: [installer]}}
        escalation:
          ladder:
            - contacts: [referent-37]
              ack_deadline: 120
            - contacts: [police-municipale, pose]
              ack_deadline: 0.5
          fold_window: 60
          burglary_when_armed: false
          instructions: "  Appeler le 17.  "
          reminders: 0
          high_stock:
            calendar: shop-calendar.yaml
            deadline_factor: 0.25
            periods: [{{name: Braderie, start: 2026-09-05, end: "2026-09-06"}}]
          outbox: {{path: data/outbox.db}}
          webhook: {{timeout: 2, backoff_initial: 0.5, backoff_max: 60, concurrency: 4}}
          scene: {{before: 300, after: 900}}
        """,
    )
    config = load_config(path, CATALOGUE)
    referent, municipal, installer = config.contacts
    assert referent.role is ContactRole.LOCAL_REFERENT
    assert referent.webhook_url == "https://referent.example/ecrin"
    assert referent.webhook_secret == "a-long-enough-secret-value"
    assert referent.token_sha256 == TOKEN
    assert referent.scopes == frozenset({"referent"})
    assert municipal.webhook_url is None
    assert municipal.webhook_secret is None
    assert installer.scopes == frozenset({"installer"})
    assert config.contact("pose") == installer
    settings = config.escalation
    assert settings is not None
    assert [(t.contacts, t.ack_deadline) for t in settings.ladder] == [
        (("referent-37",), 120.0),
        (("police-municipale", "pose"), 0.5),
    ]
    assert settings.referents == ("referent-37",)
    assert settings.fold_window == 60.0
    assert settings.burglary_when_armed is False
    assert settings.instructions == "Appeler le 17."
    assert settings.reminders == 0
    assert settings.high_stock.deadline_factor == 0.25
    assert settings.high_stock.calendar_path == tmp_path / "shop-calendar.yaml"
    assert [r.name for r in settings.high_stock.rules] == ["Soldes"]
    assert [(p.name, p.start, p.end) for p in settings.high_stock.periods] == [
        ("Braderie", date(2026, 9, 5), date(2026, 9, 6))
    ]
    assert settings.outbox_path == tmp_path / "data" / "outbox.db"
    assert (settings.webhook.timeout, settings.webhook.concurrency) == (2.0, 4)
    assert (settings.scene.before, settings.scene.after) == (300.0, 900.0)
    # The secret never shows in a repr (logs, tracebacks).
    assert "a-long-enough" not in repr(referent)


def test_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        contacts: [{id: r, name: R, role: local_referent}]
        escalation: {ladder: [{contacts: [r], ack_deadline: 60}]}
        """,
    )
    settings = load_config(path, CATALOGUE).escalation
    assert settings is not None
    assert settings.fold_window == 300.0
    assert settings.burglary_when_armed is True
    assert settings.reminders == 3
    assert settings.high_stock.calendar_path == DEFAULT_CALENDAR
    assert [r.name for r in settings.high_stock.rules] == [
        "Saint-Valentin",
        "Fête des mères",
        "Noël",
    ]
    assert settings.high_stock.deadline_factor == 0.5
    assert settings.outbox_path == tmp_path / "ecrin-outbox.db"
    assert (settings.webhook.timeout, settings.webhook.backoff_initial) == (5.0, 1.0)
    assert (settings.scene.before, settings.scene.after) == (600.0, 1800.0)


def test_every_mistake_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        contacts:
          - id: referent-37
            name: Référent
            role: referent
            webhook: {url: "http://referent.example/hook", secret: !secret hook}
          - id: referent-37
            name: Doublon
            role: owner
            webhook: {url: "https://user:pw@x.example/", secret: short}
            token_sha256: abc
            scopes: [admin]
          - {id: owner, name: Owner, role: owner, webhook: {url: "https://o.example"}}
        escalation:
          ladder:
            - contacts: [referent-37, ghost]
              ack_deadline: 0
            - contacts: [referent-37]
              ack_deadline: "2 min"
          fold_window: -1
          deadline: 60
          high_stock:
            calendar: missing.yaml
            deadline_factor: 1.5
            periods: [{name: Braderie, start: 2026-09-06, end: 2026-09-05}]
          webhook: {backoff_initial: 10, backoff_max: 5}
        """,
    )
    assert issues(path) == [
        "27:11: contacts[0].role: 'referent' is not one of: local_referent,"
        " departmental_interlocutor, national_delegation, municipal_police, owner,"
        " installer, other",
        "28:20: contacts[0].webhook.url: https is required (plain http only to a loopback address)",
        "29:9: contacts[1].id: duplicate contact id 'referent-37' (first defined at line 25)",
        "32:20: contacts[1].webhook.url: a webhook URL must not hold credentials:"
        " the secret signs requests",
        "32:58: contacts[1].webhook.secret: the webhook secret must be at least 16 characters"
        " (it has 5)",
        "33:19: contacts[1].token_sha256: expected the 64 hex digits of a SHA-256"
        " (ecrin token new CONTACT prints it)",
        "34:14: contacts[1].scopes: 'admin' is not one of: referent, installer",
        "35:52: contacts[2].webhook.secret: required key is missing",
        "38:31: escalation.ladder[0].contacts[1]: unknown contact 'ghost'"
        " (known: owner, referent-37)",
        "39:21: escalation.ladder[0].ack_deadline: 0 must be more than 0",
        "40:18: escalation.ladder[1].contacts[0]: contact 'referent-37' is already in tier 0",
        "41:21: escalation.ladder[1].ack_deadline: expected a number, got a string ('2 min')",
        "42:16: escalation.fold_window: -1 must not be negative",
        "43:3: escalation.deadline: unknown key (known: ladder, fold_window,"
        " burglary_when_armed, instructions, reminders, high_stock, outbox, webhook, scene)",
        f"45:15: escalation.high_stock.calendar: {tmp_path / 'missing.yaml'}: file not found",
        "46:22: escalation.high_stock.deadline_factor: 1.5 is above the maximum 1",
        "47:56: escalation.high_stock.periods[0].end: the period ends (2026-09-05)"
        " before it starts (2026-09-06)",
        "48:47: escalation.webhook.backoff_max: must be at least backoff_initial",
    ]


def test_calendar_file_issues_come_after_the_configuration_s(tmp_path: Path) -> None:
    (tmp_path / "cal.yaml").write_text("periods:\n  - {name: X, date: {month: 5, nth: 1}}\n")
    path = write(
        tmp_path,
        """\
        contacts: [{id: r, name: R, role: local_referent}]
        escalation:
          ladder: [{contacts: [r], ack_deadline: 60}]
          high_stock: {calendar: cal.yaml}
          colour: blue
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, CATALOGUE)
    assert [(i.file, i.line, i.key_path) for i in caught.value.issues] == [
        (str(path), 28, "escalation.colour"),
        (str(tmp_path / "cal.yaml"), 2, "periods[0].date"),
    ]


def test_empty_escalation_means_none_configured(tmp_path: Path) -> None:
    path = write(tmp_path, "contacts: []\nescalation: {}\n")
    config = load_config(path, CATALOGUE)
    assert config.contacts == ()
    assert config.escalation is None


def test_loopback_http_is_allowed_for_tests(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        contacts:
          - {id: a, name: A, role: other, webhook: {url: "http://127.0.0.1:9/x", secret: !secret k}}
          - {id: b, name: B, role: other, webhook: {url: "http://[::1]:9/x", secret: !secret k}}
          - {id: c, name: C, role: other, webhook: {url: "http://localhost/x", secret: !secret k}}
        escalation: {ladder: [{contacts: [a, b, c], ack_deadline: 1}]}
        """,
        "k: a-long-enough-secret-value\n",
    )
    assert [c.webhook_url for c in load_config(path, CATALOGUE).contacts] == [
        "http://127.0.0.1:9/x",
        "http://[::1]:9/x",
        "http://localhost/x",
    ]


def test_check_config_counts_contacts_and_tiers(tmp_path: Path) -> None:
    import io

    from hub.config import check_config_main

    path = write(
        tmp_path,
        """\
        contacts: [{id: r, name: R, role: local_referent}, {id: o, name: O, role: owner}]
        escalation: {ladder: [{contacts: [r], ack_deadline: 60}, {contacts: [o], ack_deadline: 60}]}
        """,
    )
    out, err = io.StringIO(), io.StringIO()
    assert check_config_main(path, CATALOGUE, out, err) == 0
    assert out.getvalue() == (
        f"{path}: valid: 3 zones, 2 devices, 3 cameras, 2 contacts, 2 escalation tiers\n"
    )


KEYS = [
    "id",
    "name",
    "role",
    "webhook",
    "url",
    "secret",
    "token_sha256",
    "scopes",
    "ladder",
    "contacts",
    "ack_deadline",
    "fold_window",
    "burglary_when_armed",
    "instructions",
    "reminders",
    "high_stock",
    "calendar",
    "deadline_factor",
    "periods",
    "start",
    "end",
    "outbox",
    "path",
    "timeout",
    "backoff_initial",
    "backoff_max",
    "concurrency",
    "scene",
    "before",
    "after",
]
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["r", "referent", "local_referent", "https://x.example/", "2026-09-05"])
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=16,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(contacts=VALUES, escalation=VALUES)
def test_any_sections_load_or_give_issues(
    tmp_path: Path, contacts: object, escalation: object
) -> None:
    import json

    path = write(
        tmp_path,
        f"contacts: {json.dumps(contacts)}\nescalation: {json.dumps(escalation)}\n",
    )
    problems: list[ConfigIssue] = []
    try:
        config = load_config(path, CATALOGUE)
    except ConfigError as exc:
        problems = exc.issues
        assert problems, "a ConfigError always carries issues"
    else:
        assert all(c.id for c in config.contacts)
    assert all(i.line >= 1 and i.column >= 1 for i in problems)
