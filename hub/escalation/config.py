"""The ``contacts:`` and ``escalation:`` sections, and the high-stock calendar file.

Who is told of a hold-up, in which order, how fast they must answer, and where the
durable outbox lives. Every mistake is reported at its line, with the others, in the
same ``FILE:LINE:COLUMN: key.path: reason`` shape as the rest of the configuration;
problems in the calendar file are reported against that file.

The escalation feature owns these sections: the essential ``escalation`` plugin
contributes them to the loader (``CONFIG_SECTIONS``, through the
``register_config_sections`` hook), and ``contacts_of`` and ``escalation_of`` read
them back from a loaded ``Config``. The values come out as frozen dataclasses
(``Contact`` from the escalation model, ``Tier``, ``EscalationSettings``...) that the
escalation engine trusts as they are.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from hub.config import Config, ConfigSection, SectionContext
from hub.config.check import counted
from hub.config.fields import Section, as_map, as_sequence, read_id, read_string
from hub.config.issues import ConfigIssue, IssueLog, describe
from hub.escalation.calendar import (
    WEEKDAYS,
    DateRule,
    HighStockCalendar,
    HighStockPeriod,
    PeriodRule,
)
from hub.escalation.model import Contact, ContactRole
from hub.yamlsource import INVALID, ROOT_PATH, Mark, YMap, YNode, YScalar, YSeq, read_yaml

__all__ = [
    "CONFIG_SECTIONS",
    "CONTACT_KEYS",
    "DEFAULT_CALENDAR",
    "ESCALATION_KEYS",
    "MIN_SECRET_LENGTH",
    "EscalationSettings",
    "HighStockSettings",
    "SceneSettings",
    "Tier",
    "WebhookSettings",
    "contact_of",
    "contacts_of",
    "escalation_of",
    "read_calendar",
    "read_contacts",
    "read_escalation",
]

CONTACT_KEYS: Final = ("id", "name", "role", "webhook", "token_sha256", "scopes")
WEBHOOK_KEYS: Final = ("url", "secret")
ESCALATION_KEYS: Final = (
    "ladder",
    "fold_window",
    "burglary_when_armed",
    "instructions",
    "reminders",
    "high_stock",
    "outbox",
    "webhook",
    "scene",
)
TIER_KEYS: Final = ("contacts", "ack_deadline")
HIGH_STOCK_KEYS: Final = ("calendar", "deadline_factor", "periods")
PERIOD_KEYS: Final = ("name", "start", "end")
OUTBOX_KEYS: Final = ("path",)
DELIVERY_KEYS: Final = ("timeout", "backoff_initial", "backoff_max", "concurrency")
SCENE_KEYS: Final = ("before", "after")
CALENDAR_PERIOD_KEYS: Final = ("name", "start", "end", "date", "days_before", "days_after")
DATE_KEYS: Final = ("month", "day", "weekday", "nth", "easter", "offset", "unless", "then")

SCOPES: Final = ("referent", "installer")
ROLES: Final = tuple(role.value for role in ContactRole)

#: A webhook key shorter than this is too easy to guess.
MIN_SECRET_LENGTH: Final = 16

#: The calendar shipped with Écrin: package data of ``hub.escalation``, so that an
#: installed hub has it (``config/high-stock.yaml`` of the source tree links to it).
DEFAULT_CALENDAR: Final = Path(__file__).resolve().parent / "high-stock.yaml"

_LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


# -- the typed values -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tier:
    """One rung of the ladder.

    Attributes:
        contacts: the ids of the contacts addressed when the escalation reaches it.
        ack_deadline: seconds they have to acknowledge before the next tier is added
            (before the high-stock factor).
    """

    contacts: tuple[str, ...]
    ack_deadline: float


@dataclass(frozen=True, slots=True)
class HighStockSettings:
    """High-stock periods and what they change.

    Attributes:
        calendar_path: the calendar file read (None: no shared calendar).
        rules: the periods that come back every year, from that file.
        periods: the shop's own dated periods.
        deadline_factor: deadlines are multiplied by it during a period (0 < f <= 1).
    """

    calendar_path: Path | None = None
    rules: tuple[PeriodRule, ...] = ()
    periods: tuple[HighStockPeriod, ...] = ()
    deadline_factor: float = 0.5

    def calendar(self, tz: ZoneInfo) -> HighStockCalendar:
        """The calendar in the site's time zone."""
        return HighStockCalendar(self.rules, self.periods, tz)


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """How webhooks are delivered.

    Attributes:
        timeout: seconds a receiver has to answer one POST.
        backoff_initial: the first delay before a retry, in seconds.
        backoff_max: the cap on the delay between retries.
        concurrency: how many POSTs may be in flight at once (over all contacts).
    """

    timeout: float = 5.0
    backoff_initial: float = 1.0
    backoff_max: float = 300.0
    concurrency: int = 16


@dataclass(frozen=True, slots=True)
class SceneSettings:
    """The window of recordings kept after a hold-up.

    Attributes:
        before: seconds before the first signal.
        after: seconds after it.
    """

    before: float = 600.0
    after: float = 1800.0


@dataclass(frozen=True, slots=True)
class EscalationSettings:
    """The ``escalation:`` section.

    Attributes:
        ladder: the tiers, in order (at least one).
        outbox_path: the durable outbox's SQLite file (absolute).
        fold_window: seconds within which a repeat of an incident folds into its
            escalation (0: never fold).
        burglary_when_armed: escalate burglary alarms while the panel is armed.
        instructions: the text sent to the referents with every escalation.
        reminders: how many times the last tier is reminded, one deadline apart.
        high_stock: the high-stock calendar and deadline factor.
        webhook: delivery timeouts, backoff and concurrency.
        scene: the recording window kept after a hold-up.
    """

    ladder: tuple[Tier, ...]
    outbox_path: Path
    fold_window: float = 300.0
    burglary_when_armed: bool = True
    instructions: str = ""
    reminders: int = 3
    high_stock: HighStockSettings = field(default_factory=HighStockSettings)
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    scene: SceneSettings = field(default_factory=SceneSettings)

    @property
    def referents(self) -> tuple[str, ...]:
        """The first tier's contacts: who is told of high-stock periods."""
        return self.ladder[0].contacts


# -- small field readers -----------------------------------------------------------------


def _invalid(node: YNode) -> bool:
    return isinstance(node, YScalar) and node.value is INVALID


def _number(
    section: Section,
    key: str,
    default: float,
    *,
    positive: bool = True,
    maximum: float | None = None,
) -> float:
    """Seconds or a factor: a number (integer or decimal), above 0 (or at least 0)."""
    node = section.get(key)
    if node is None or _invalid(node):
        return default
    value: Any = node.value if isinstance(node, YScalar) else None
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        section.log.add(node, section.at(key), f"expected a number, got {describe(node)}")
        return default
    if positive and value <= 0:
        section.log.add(node, section.at(key), f"{value} must be more than 0")
        return default
    if not positive and value < 0:
        section.log.add(node, section.at(key), f"{value} must not be negative")
        return default
    if maximum is not None and value > maximum:
        section.log.add(node, section.at(key), f"{value} is above the maximum {maximum:g}")
        return default
    return float(value)


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(log: IssueLog, node: YNode, path: str) -> str | None:
    text = read_string(log, node, path)
    if text is None:
        return None
    try:
        parts = urlsplit(text.strip())
        host = parts.hostname or ""
        _ = parts.port  # raises on a bad port
    except ValueError as exc:
        log.add(node, path, f"not a valid URL: {exc}")
        return None
    if parts.scheme not in ("https", "http") or not host:
        log.add(node, path, f"expected an https:// URL with a host, got {text!r}")
        return None
    if parts.username is not None or parts.password is not None:
        log.add(node, path, "a webhook URL must not hold credentials: the secret signs requests")
        return None
    if parts.scheme == "http" and not _is_loopback(host):
        log.add(node, path, "https is required (plain http only to a loopback address)")
        return None
    return text.strip()


def _string_list(log: IssueLog, section: Section, key: str) -> list[tuple[YNode, str]]:
    out: list[tuple[YNode, str]] = []
    for index, item in enumerate(section.sequence(key)):
        value = read_string(log, item, f"{section.at(key)}[{index}]")
        if value is not None:
            out.append((item, value))
    return out


# -- contacts ----------------------------------------------------------------------------


def _webhook(log: IssueLog, section: Section) -> tuple[str | None, str | None]:
    node = section.mapping("webhook")
    if node is None:
        return None, None
    hook = Section(log, node, section.at("webhook"), WEBHOOK_KEYS, required=WEBHOOK_KEYS)
    url_node = hook.get("url")
    url = _url(log, url_node, hook.at("url")) if url_node is not None else None
    secret: str | None = None
    secret_node = hook.get("secret")
    if secret_node is not None:
        secret = read_string(log, secret_node, hook.at("secret"))
        if secret is not None and len(secret) < MIN_SECRET_LENGTH:
            log.add(
                secret_node,
                hook.at("secret"),
                f"the webhook secret must be at least {MIN_SECRET_LENGTH} characters"
                f" (it has {len(secret)})",
            )
            secret = None
    if url is None or secret is None:
        return None, None
    return url, secret


def _token(log: IssueLog, section: Section) -> str | None:
    node = section.get("token_sha256")
    if node is None:
        return None
    value = read_string(log, node, section.at("token_sha256"))
    if value is None:
        return None
    text = value.strip().lower()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        log.add(
            node,
            section.at("token_sha256"),
            "expected the 64 hex digits of a SHA-256 (ecrin token new CONTACT prints it)",
        )
        return None
    return text


def _scopes(log: IssueLog, section: Section) -> frozenset[str]:
    node = section.get("scopes")
    if node is None:
        return frozenset({"referent"})
    found: set[str] = set()
    for item, value in _string_list(log, section, "scopes"):
        if value not in SCOPES:
            log.add(item, section.at("scopes"), f"{value!r} is not one of: {', '.join(SCOPES)}")
        else:
            found.add(value)
    if isinstance(node, YSeq) and not node.items:
        log.add(node, section.at("scopes"), "at least one scope is required")
    return frozenset(found) or frozenset({"referent"})


def read_contacts(log: IssueLog, items: Sequence[YNode]) -> tuple[Contact, ...]:
    """``contacts:``: the people and services escalations can be addressed to."""
    contacts: list[Contact] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        path = f"contacts[{index}]"
        ymap = as_map(log, item, path, "a mapping with id, name and role")
        if ymap is None:
            continue
        section = Section(log, ymap, path, CONTACT_KEYS, required=("id", "name", "role"))
        contact_id = section.id("id")
        id_node = section.get("id")
        if contact_id is not None and id_node is not None:
            first = seen.get(contact_id)
            if first is not None:
                log.add(
                    id_node,
                    section.at("id"),
                    f"duplicate contact id {contact_id!r} (first defined at line {first})",
                )
            else:
                seen[contact_id] = id_node.mark.line
        role = section.choice("role", ROLES, default=ContactRole.OTHER.value)
        url, secret = _webhook(log, section)
        contacts.append(
            Contact(
                id=contact_id or "",
                name=section.string("name"),
                role=ContactRole(role),
                webhook_url=url,
                webhook_secret=secret,
                token_sha256=_token(log, section),
                scopes=_scopes(log, section),
            )
        )
    return tuple(contacts)


# -- the calendar file -----------------------------------------------------------------


def _int(log: IssueLog, node: YNode, path: str, low: int, high: int) -> int | None:
    if _invalid(node):
        return None
    value: Any = node.value if isinstance(node, YScalar) else None
    if not isinstance(value, int) or isinstance(value, bool):
        log.add(node, path, f"expected a whole number, got {describe(node)}")
        return None
    if not low <= value <= high:
        log.add(node, path, f"{value} is not between {low} and {high}")
        return None
    return value


def _date_rule(log: IssueLog, node: YNode, path: str) -> DateRule | None:
    """A date rule: ``{month, day}``, ``{month, weekday, nth}`` or ``{easter}``, with
    ``offset`` and ``unless``/``then``."""
    ymap = as_map(log, node, path, "a mapping such as {month: 12, day: 1}")
    if ymap is None:
        return None
    section = Section(log, ymap, path, DATE_KEYS)
    values: dict[str, int | None] = {}
    limits = {"month": (1, 12), "day": (1, 31), "nth": (-5, 5), "easter": (-100, 300)}
    for key, (low, high) in limits.items():
        item = section.get(key)
        values[key] = _int(log, item, section.at(key), low, high) if item is not None else None
    offset_node = section.get("offset")
    offset = (
        _int(log, offset_node, section.at("offset"), -366, 366) if offset_node is not None else 0
    )
    weekday: int | None = None
    weekday_node = section.get("weekday")
    if weekday_node is not None:
        name = read_string(log, weekday_node, section.at("weekday"))
        if name is not None and name.lower() not in WEEKDAYS:
            log.add(
                weekday_node,
                section.at("weekday"),
                f"{name!r} is not one of: {', '.join(WEEKDAYS)}",
            )
        elif name is not None:
            weekday = WEEKDAYS.index(name.lower())
    forms = [
        key
        for key, present in (
            ("easter", section.get("easter") is not None),
            ("weekday", weekday_node is not None),
            ("day", section.get("day") is not None),
        )
        if present
    ]
    if len(forms) != 1:
        log.add(
            ymap,
            path,
            "give exactly one of: month and day; month, weekday and nth; easter",
        )
        return None
    month, day, nth = values["month"], values["day"], values["nth"]
    if forms[0] == "easter" and section.get("month") is not None:
        log.add(section.get("month") or ymap, section.at("month"), "easter takes no month")
        return None
    if forms[0] != "easter" and section.get("month") is None:
        log.add(ymap, section.at("month"), "required key is missing")
        return None
    if forms[0] == "weekday" and section.get("nth") is None:
        log.add(
            ymap, section.at("nth"), "required key is missing (1 for the first, -1 for the last)"
        )
        return None
    if nth == 0:
        log.add(section.get("nth") or ymap, section.at("nth"), "0 is not a position: use 1 or -1")
        return None
    if forms[0] == "day" and month is not None and day is not None:
        try:
            date(2001, month, day)  # a common year: 29 February does not come every year
        except ValueError:
            log.add(
                section.get("day") or ymap,
                section.at("day"),
                f"month {month} has no day {day} every year",
            )
            return None
    unless: DateRule | None = None
    then: DateRule | None = None
    unless_node, then_node = section.get("unless"), section.get("then")
    if (unless_node is None) != (then_node is None):
        log.add(ymap, path, "unless and then go together")
    elif unless_node is not None and then_node is not None:
        unless = _date_rule(log, unless_node, section.at("unless"))
        then = _date_rule(log, then_node, section.at("then"))
    needed = {
        "easter": (values["easter"],),
        "day": (month, day),
        "weekday": (month, weekday, nth),
    }[forms[0]]
    if offset is None or None in needed:
        return None
    return DateRule(
        month=month,
        day=day if forms[0] == "day" else None,
        weekday=weekday,
        nth=nth if forms[0] == "weekday" else None,
        easter=values["easter"],
        offset=offset,
        unless=unless,
        then=then,
    )


def _calendar_period(log: IssueLog, node: YNode, path: str) -> PeriodRule | None:
    ymap = as_map(log, node, path, "a mapping with name, and start and end (or date)")
    if ymap is None:
        return None
    section = Section(log, ymap, path, CALENDAR_PERIOD_KEYS, required=("name",))
    name = section.string("name")
    has_date = section.get("date") is not None
    has_range = section.get("start") is not None or section.get("end") is not None
    if has_date == has_range:
        log.add(ymap, path, "give either start and end, or date (with days_before, days_after)")
        return None
    if has_date:
        base_node = section.get("date")
        base = _date_rule(log, base_node, section.at("date")) if base_node is not None else None
        before = section.integer("days_before", 0, minimum=0, maximum=90)
        after = section.integer("days_after", 0, minimum=0, maximum=90)
        if base is None or not name:
            return None
        return PeriodRule(name, base.shifted(-before), base.shifted(after))
    for key in ("days_before", "days_after"):
        extra = section.get(key)
        if extra is not None:
            log.add(extra, section.at(key), f"{key} goes with date, not with start and end")
    found: list[DateRule | None] = []
    for key in ("start", "end"):
        day_node = section.get(key)
        if day_node is None:
            log.add(ymap, section.at(key), "required key is missing")
            found.append(None)
        else:
            found.append(_date_rule(log, day_node, section.at(key)))
    start, end = found
    if start is None or end is None or not name:
        return None
    return PeriodRule(name, start, end)


def read_calendar(path: Path, display: str) -> tuple[tuple[PeriodRule, ...], list[ConfigIssue]]:
    """Read a high-stock calendar file.

    Args:
        path: the file.
        display: how to name it in issues.

    Returns:
        The period rules, and every problem found in the file (empty when valid).
    """
    log = IssueLog(display)
    root, problems = read_yaml(path)
    for problem in problems:
        log.add(problem.mark, problem.path, problem.reason)
    rules: list[PeriodRule] = []
    if root is None and not problems:
        log.add(Mark(1, 1), ROOT_PATH, "the calendar is empty: expected a mapping with periods")
    elif root is not None:
        ymap = as_map(log, root, ROOT_PATH, "a mapping with periods")
        if ymap is not None:
            section = Section(log, ymap, "", ("periods",), required=("periods",))
            names: set[str] = set()
            for index, item in enumerate(section.sequence("periods")):
                rule = _calendar_period(log, item, f"periods[{index}]")
                if rule is None:
                    continue
                if rule.name in names:
                    log.add(item, f"periods[{index}].name", f"duplicate period {rule.name!r}")
                    continue
                names.add(rule.name)
                rules.append(rule)
    return tuple(rules), sorted(log.issues, key=lambda i: (i.line, i.column))


# -- escalation ------------------------------------------------------------------------


def _ladder(log: IssueLog, section: Section, contact_ids: set[str]) -> tuple[Tier, ...]:
    tiers: list[Tier] = []
    node = section.get("ladder")
    if isinstance(node, YSeq) and not node.items:
        log.add(node, section.at("ladder"), "at least one tier is required")
    placed: dict[str, int] = {}
    for index, item in enumerate(section.sequence("ladder")):
        path = f"{section.at('ladder')}[{index}]"
        ymap = as_map(log, item, path, "a mapping with contacts and ack_deadline")
        if ymap is None:
            continue
        tier = Section(log, ymap, path, TIER_KEYS, required=TIER_KEYS)
        members: list[str] = []
        contacts_node = tier.get("contacts")
        if isinstance(contacts_node, YSeq) and not contacts_node.items:
            log.add(contacts_node, tier.at("contacts"), "a tier needs at least one contact")
        for position, member in enumerate(tier.sequence("contacts")):
            member_path = f"{tier.at('contacts')}[{position}]"
            contact = read_id(log, member, member_path)
            if contact is None:
                continue
            if contact not in contact_ids:
                known = ", ".join(sorted(contact_ids)) or "none defined"
                log.add(member, member_path, f"unknown contact {contact!r} (known: {known})")
                continue
            if contact in placed:
                log.add(
                    member,
                    member_path,
                    f"contact {contact!r} is already in tier {placed[contact]}",
                )
                continue
            placed[contact] = index
            members.append(contact)
        deadline = _number(tier, "ack_deadline", 0.0)
        if members and deadline > 0:
            tiers.append(Tier(tuple(members), deadline))
    return tuple(tiers)


def _period_date(log: IssueLog, node: YNode, path: str) -> date | None:
    if _invalid(node):
        return None
    value: Any = node.value if isinstance(node, YScalar) else None
    if isinstance(value, datetime):
        log.add(node, path, "expected a date without a time, e.g. 2026-09-05")
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    log.add(node, path, f"expected a date such as 2026-09-05, got {describe(node)}")
    return None


def _shop_periods(log: IssueLog, section: Section) -> tuple[HighStockPeriod, ...]:
    periods: list[HighStockPeriod] = []
    for index, item in enumerate(section.sequence("periods")):
        path = f"{section.at('periods')}[{index}]"
        ymap = as_map(log, item, path, "a mapping with name, start and end")
        if ymap is None:
            continue
        period = Section(log, ymap, path, PERIOD_KEYS, required=PERIOD_KEYS)
        name = period.string("name")
        start_node, end_node = period.get("start"), period.get("end")
        start = _period_date(log, start_node, period.at("start")) if start_node else None
        end = _period_date(log, end_node, period.at("end")) if end_node else None
        if start is not None and end is not None and end < start and end_node is not None:
            log.add(
                end_node, period.at("end"), f"the period ends ({end}) before it starts ({start})"
            )
            continue
        if name and start is not None and end is not None:
            periods.append(HighStockPeriod(start, end, name))
    return tuple(periods)


def _high_stock(
    log: IssueLog, section: Section, config_dir: Path
) -> tuple[HighStockSettings, list[ConfigIssue]]:
    node = section.mapping("high_stock")
    calendar_path: Path | None = DEFAULT_CALENDAR
    factor = HighStockSettings().deadline_factor
    periods: tuple[HighStockPeriod, ...] = ()
    calendar_node: YNode | None = None
    if node is not None:
        high = Section(log, node, section.at("high_stock"), HIGH_STOCK_KEYS)
        calendar_node = high.get("calendar")
        if isinstance(calendar_node, YScalar) and calendar_node.value is False:
            calendar_path = None
        elif calendar_node is not None:
            text = read_string(log, calendar_node, high.at("calendar"))
            calendar_path = config_dir / Path(text).expanduser() if text is not None else None
        factor = _number(high, "deadline_factor", factor, maximum=1.0)
        periods = _shop_periods(log, high)
    if calendar_path is None:
        return HighStockSettings(None, (), periods, factor), []
    rules, issues = read_calendar(calendar_path, str(calendar_path))
    if calendar_node is not None and issues and issues[0].key_path == "<file>":
        # A missing calendar is the configuration's mistake: say so at its line.
        log.add(
            calendar_node, "escalation.high_stock.calendar", f"{calendar_path}: {issues[0].reason}"
        )
        issues = issues[1:]
    return HighStockSettings(calendar_path, rules, periods, factor), issues


def read_escalation(
    log: IssueLog, node: YMap | None, config_dir: Path, contacts: Sequence[Contact]
) -> tuple[EscalationSettings | None, list[ConfigIssue]]:
    """``escalation:``: the ladder, folding, high-stock periods, outbox and delivery.

    An absent or empty section (``escalation: {}``) means no escalation is configured.

    Args:
        log: the configuration's issues.
        node: the section, or None when absent.
        config_dir: the configuration's directory, for relative paths.
        contacts: the contacts read from ``contacts:``.

    Returns:
        The settings (None when not configured or invalid), and the issues found in
        other files (the calendar), which the loader reports after the configuration's.
    """
    if node is None or not node.entries:
        return None, []
    path = "escalation"
    section = Section(log, node, path, ESCALATION_KEYS, required=("ladder",))
    ladder = _ladder(log, section, {c.id for c in contacts if c.id})
    outbox_raw = "ecrin-outbox.db"
    outbox_node = section.mapping("outbox")
    if outbox_node is not None:
        outbox_raw = Section(log, outbox_node, section.at("outbox"), OUTBOX_KEYS).string(
            "path", outbox_raw
        )
    webhook = WebhookSettings()
    webhook_node = section.mapping("webhook")
    if webhook_node is not None:
        hook = Section(log, webhook_node, section.at("webhook"), DELIVERY_KEYS)
        webhook = WebhookSettings(
            timeout=_number(hook, "timeout", webhook.timeout, maximum=120),
            backoff_initial=_number(hook, "backoff_initial", webhook.backoff_initial, maximum=3600),
            backoff_max=_number(hook, "backoff_max", webhook.backoff_max, maximum=86400),
            concurrency=hook.integer("concurrency", webhook.concurrency, minimum=1, maximum=256),
        )
        if webhook.backoff_max < webhook.backoff_initial:
            where = hook.get("backoff_max") or webhook_node
            log.add(where, hook.at("backoff_max"), "must be at least backoff_initial")
    scene = SceneSettings()
    scene_node = section.mapping("scene")
    if scene_node is not None:
        window = Section(log, scene_node, section.at("scene"), SCENE_KEYS)
        scene = SceneSettings(
            before=_number(window, "before", scene.before, positive=False, maximum=86400),
            after=_number(window, "after", scene.after, positive=False, maximum=86400),
        )
    high_stock, issues = _high_stock(log, section, config_dir)
    instructions_node = section.get("instructions")
    instructions = ""
    if instructions_node is not None:
        instructions = (
            read_string(log, instructions_node, section.at("instructions"), empty_ok=True) or ""
        )
    settings = EscalationSettings(
        ladder=ladder,
        outbox_path=config_dir / Path(outbox_raw).expanduser(),
        fold_window=_number(section, "fold_window", 300.0, positive=False, maximum=86400),
        burglary_when_armed=section.boolean("burglary_when_armed", True),
        instructions=instructions.strip(),
        reminders=section.integer("reminders", 3, minimum=0, maximum=100),
        high_stock=high_stock,
        webhook=webhook,
        scene=scene,
    )
    return (settings if ladder else None), issues


# -- the sections, as the escalation plugin contributes them -------------------------------


def _read_contacts_section(node: YNode | None, ctx: SectionContext) -> tuple[Contact, ...]:
    return read_contacts(ctx.log, as_sequence(ctx.log, node, "contacts"))


def _read_escalation_section(node: YNode | None, ctx: SectionContext) -> EscalationSettings | None:
    ymap = as_map(ctx.log, node, "escalation") if node is not None else None
    contacts = cast("tuple[Contact, ...]", ctx.sections.get("contacts") or ())
    settings, other_files = read_escalation(ctx.log, ymap, ctx.config_dir, contacts)
    ctx.report_file_issues(other_files)
    return settings


def contacts_of(config: Config) -> tuple[Contact, ...]:
    """The ``contacts:`` of a loaded configuration (empty when none)."""
    return cast("tuple[Contact, ...]", config.section("contacts", tuple) or ())


def contact_of(config: Config, contact_id: str) -> Contact | None:
    """The contact with that id in a loaded configuration, or None."""
    return next((c for c in contacts_of(config) if c.id == contact_id), None)


def escalation_of(config: Config) -> EscalationSettings | None:
    """The ``escalation:`` of a loaded configuration; None when the shop configures no
    escalation."""
    return config.section("escalation", EscalationSettings)


def _summary(config: Config) -> list[str]:
    settings = escalation_of(config)
    if settings is None:
        return []
    return [
        counted(len(contacts_of(config)), "contact"),
        counted(len(settings.ladder), "escalation tier"),
    ]


#: The sections the escalation feature owns, in the order they are read.
CONFIG_SECTIONS: Final = (
    ConfigSection(
        "contacts",
        _read_contacts_section,
        doc="the people and services escalations can be addressed to",
    ),
    ConfigSection(
        "escalation",
        _read_escalation_section,
        after=("contacts",),
        summary=_summary,
        doc="the ladder, high-stock periods, outbox, webhook delivery, scene window",
    ),
)
