"""Fixtures for the HTTP tests: a shop with contacts and tokens, the app served on a
real loopback socket, a client, and the OpenAPI check of every response."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDictProxy
from yarl import URL

from hub.bus import EventBus
from hub.config.model import CameraConfig, Config, JournalConfig, Site, Zone
from hub.coverage.handover import HandoverDesk
from hub.coverage.memory import IntervalList
from hub.coverage.model import CoverageReader, Interval
from hub.coverage.register_store import REGISTER_FILE, RegisterStore
from hub.coverage.report_runs import ReportMaker, ThreadReports
from hub.coverage.report_source import CoverageLogUnavailable, ReportSource
from hub.escalation.clock import Clock
from hub.escalation.config import EscalationSettings, HighStockSettings, Tier
from hub.escalation.engine import EscalationEngine, as_service
from hub.escalation.model import Contact, ContactRole, Escalation, EscalationService
from hub.escalation.webhooks import EVENT_HEADER, SIGNATURE_HEADER, verify_signature
from hub.events import AlarmKind, AlarmSignal, Event, RecordingsHandedOver
from hub.http import HttpSettings, Readiness, create_app, openapi_document, serve
from hub.http.app import METRICS
from hub.http.tokens import hash_token, new_token
from hub.journal import Journal, JournalError
from hub.state import StateRegistry
from tests.escalation.conftest import engine_for
from tests.http.openapi_check import OpenApiChecker
from tests.http.sse_client import SseReader


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "internal_error_expected: the test provokes a 500 on purpose"
    )


# -- contacts and tokens ---------------------------------------------------------------
#: Who is who in the tests: the local referent (first tier), the departmental
#: interlocutor (second tier, not reached in these tests), the installer, and the shop
#: owner (a contact with no API scope).
WHO = ("referent", "interlocutor", "installer", "owner")


@dataclass
class People:
    contacts: dict[str, Contact]
    tokens: dict[str, str]


def make_people() -> People:
    """The contacts of ``WHO``, each with a fresh token."""
    specs = {
        "referent": ("referent-37", "Référent sûreté 37", ContactRole.LOCAL_REFERENT, {"referent"}),
        "interlocutor": (
            "interlocutor-37",
            "Interlocuteur départemental",
            ContactRole.DEPARTMENTAL_INTERLOCUTOR,
            {"referent"},
        ),
        "installer": ("installer", "Installateur", ContactRole.INSTALLER, {"installer"}),
        "owner": ("owner", "Gérante", ContactRole.OWNER, set()),
    }
    tokens = {key: new_token() for key in specs}
    contacts = {
        key: Contact(
            id=cid,
            name=name,
            role=role,
            token_sha256=hash_token(tokens[key]),
            scopes=frozenset(scopes),
        )
        for key, (cid, name, role, scopes) in specs.items()
    }
    return People(contacts, tokens)


@pytest.fixture
def people() -> People:
    return make_people()


# -- webhooks: a real receiver on loopback ---------------------------------------------
WEBHOOK_SECRET = "a-webhook-secret-of-32-characters"


class WebhookReceiver:
    """A contact's webhook endpoint: records every signed delivery it accepts."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[str, dict[str, Any]]] = []
        self.url = ""
        self._changed = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        header = request.headers.get(SIGNATURE_HEADER, "")
        if not verify_signature(WEBHOOK_SECRET, header, body, time.time()):
            return web.Response(status=401)
        self.deliveries.append((request.headers.get(EVENT_HEADER, ""), json.loads(body)))
        self._changed.set()
        return web.Response(status=204)

    async def wait_for(self, event: str, timeout: float = 5.0) -> dict[str, Any]:
        """The first delivery of ``event`` (waiting for it if need be)."""
        async with asyncio.timeout(timeout):
            while True:
                for name, body in self.deliveries:
                    if name == event:
                        return body
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
async def webhooks() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    async with serve(app) as url:
        receiver.url = url + "/hook"
        yield receiver


# -- the escalation engine -------------------------------------------------------------
ZONES = {
    "counter": "Comptoir",
    "window": "Vitrine rue",
    "safe": "Coffre",
    "office": "Bureau",
    "workshop": "Atelier",
    "entrance": "Entrée",
    "stock": "Réserve",
    "vault": "Chambre forte",
}
#: The first tier's acknowledgement deadline: long enough never to pass in a test that
#: runs on the real clock.
ACK_DEADLINE = 3600.0


def shop_config(
    tmp_path: Path, contacts: Sequence[Contact], *, ack_deadline: float = ACK_DEADLINE
) -> Config:
    """A shop with zones, cameras and a two-tier ladder (referent, then interlocutor)."""
    ids = {c.id for c in contacts}
    tiers = [t for t in (("referent-37",), ("interlocutor-37",)) if set(t) <= ids]
    return Config(
        path=tmp_path / "ecrin.yaml",
        site=Site(
            name="Bijouterie du Centre",
            address="12 rue Nationale, 37000 Tours",
            departement="37",
            timezone="Europe/Paris",
        ),
        zones=tuple(Zone(zid, name, "high") for zid, name in ZONES.items()),
        cameras=(
            CameraConfig(
                id="cam-counter",
                type="frigate",
                settings={},
                zones=("counter",),
                placement="indoor",
            ),
        ),
        sections={
            "contacts": tuple(contacts),
            "escalation": EscalationSettings(
                ladder=tuple(Tier(t, ack_deadline) for t in tiers) or (Tier((), ack_deadline),),
                outbox_path=tmp_path / "outbox.db",
                instructions="Entrée par la cour.",
                high_stock=HighStockSettings(calendar_path=None),
            ),
        },
        journal=JournalConfig(tmp_path / "journal.db"),
    )


@dataclass
class Shop:
    """The escalation side of a test: the real engine on a real bus, and the people."""

    engine: EscalationEngine
    bus: EventBus
    people: People
    webhooks: WebhookReceiver
    state: StateRegistry = field(default_factory=StateRegistry)
    used_zones: set[str] = field(default_factory=set)

    @property
    def service(self) -> EscalationService:
        return as_service(self.engine)

    @property
    def installer(self) -> Contact:
        return self.people.contacts["installer"]

    async def alarm(self, kind: AlarmKind, zone: str | None = None) -> Escalation:
        """Publish an alarm on the bus, as a panel would; return the escalation it opened.

        Each call takes a zone not used yet in the test: a second alarm in the same zone
        within the fold window is the same incident and would not open a new one.
        """
        zone = zone or next(z for z in ZONES if z not in self.used_zones)
        assert zone not in self.used_zones, f"zone {zone} already has an escalation"
        self.used_zones.add(zone)
        listener = self.engine.changes(self.installer)
        try:
            self.bus.publish(
                AlarmSignal(kind=kind, device="panel", zone=zone, code="122", protocol="contact-id")
            )
            async with asyncio.timeout(5):
                async for change in listener:
                    if change.what == "created" and change.escalation.zone == zone:
                        return change.escalation
        finally:
            await listener.aclose()
        raise AssertionError("the engine stopped before opening the escalation")

    async def holdup(self, zone: str | None = None) -> Escalation:
        """A hold-up (silent, life-safety, scene preserved)."""
        return await self.alarm(AlarmKind.HOLDUP, zone)


@pytest.fixture
def engine_clock() -> Clock | None:
    """The engine's clock: the real one, unless a test overrides this fixture."""
    return None


@pytest.fixture
async def shop(
    tmp_path: Path,
    people: People,
    bus: EventBus,
    webhooks: WebhookReceiver,
    engine_clock: Clock | None,
) -> AsyncIterator[Shop]:
    contacts = [
        dataclasses.replace(c, webhook_url=webhooks.url, webhook_secret=WEBHOOK_SECRET)
        if key == "referent"
        else c
        for key, c in people.contacts.items()
    ]
    people.contacts = dict(zip(people.contacts, contacts, strict=True))
    config = shop_config(tmp_path, contacts)
    # The hub's state registry, fed as the hub feeds it: observing the bus.
    state = StateRegistry(cameras=[c.id for c in config.cameras])
    stop_observing = bus.observe(state.apply)
    try:
        async with engine_for(config, bus, clock=engine_clock, state=state) as engine:
            yield Shop(engine, bus, people, webhooks, state)
    finally:
        stop_observing()


# -- the app on a loopback socket ------------------------------------------------------
class FakeClock:
    """A monotonic clock the test moves by hand (for lockouts that last minutes)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings() -> HttpSettings:
    return HttpSettings(heartbeat=0.3, body_timeout=1.0)


@pytest.fixture
def checker() -> OpenApiChecker:
    return OpenApiChecker(openapi_document())


@pytest.fixture
def readiness() -> list[Readiness]:
    """What ``/healthz`` reports: the last item (a test appends one to change it)."""
    return [Readiness(ready=True, configured=1, running=1)]


# -- the coverage report's log and journal ---------------------------------------------
#: The coverage report's formats besides JSON: media type, and how the body starts.
REPORT_FORMATS: Final = [
    ("html", "text/html", b"<!DOCTYPE html>"),
    ("csv", "text/csv", b"subject_type,subject,kind"),
    ("pdf", "application/pdf", b"%PDF-"),
]
#: The day the coverage log holds: the counter filmed 08:00-18:00 UTC, but 12:00-12:30.
COVERAGE_DAY = datetime(2024, 3, 12, tzinfo=UTC)


NOT_RECORDING = "not recording (cam-counter)"


def _h(hours: float) -> datetime:
    return COVERAGE_DAY + timedelta(hours=hours)


class CoverageLog:
    """The coverage log the report route reads: intervals in memory, or none yet
    (``reader = None``: the route answers 503, as a hub that has recorded nothing)."""

    def __init__(self) -> None:
        self.reader: CoverageReader | None = IntervalList(
            [
                Interval("cam-counter", "availability", "online", _h(8), _h(18)),
                Interval("cam-counter", "recording", "on", _h(8), _h(12)),
                Interval("cam-counter", "recording", "off", _h(12), _h(12.5)),
                Interval("cam-counter", "recording", "on", _h(12.5), _h(18)),
                Interval("counter", "coverage", "covered", _h(8), _h(12)),
                Interval(
                    "counter", "coverage", "gap", _h(12), _h(12.5), "not recording (cam-counter)"
                ),
                Interval("counter", "coverage", "covered", _h(12.5), _h(18)),
            ]
        )

    def open(self) -> CoverageReader:
        if self.reader is None:
            raise CoverageLogUnavailable("no coverage log")
        return self.reader


@pytest.fixture
def coverage_log() -> CoverageLog:
    return CoverageLog()


@pytest.fixture
async def coverage_report(tmp_path: Path, coverage_log: CoverageLog) -> ReportSource:
    """The shop's report source: its log, and a journal holding one hold-up."""
    config = shop_config(tmp_path / "coverage-report", [])
    config.journal.path.parent.mkdir()
    async with Journal(config.journal.path) as journal:
        await journal.append(
            [AlarmSignal(time=_h(9), kind=AlarmKind.HOLDUP, device="panel", zone="counter")]
        )
    return ReportSource(config, coverage_log.open, clock=lambda: _h(40))


@pytest.fixture
def report_maker(coverage_report: ReportSource) -> ReportMaker:
    """What makes the route's reports: a thread over ``coverage_report`` (a test of the
    running hub's child process overrides this fixture)."""
    return ThreadReports(coverage_report)


@pytest.fixture
def coverage() -> CoverageReader | None:
    """The coverage log the app reads: none, unless a test overrides this fixture."""
    return None


# -- hand-overs: the register and a journal of their own ---------------------------------
#: The hub's "now" for hand-overs: a window must end before it.
HANDOVER_NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


@dataclass
class Handovers:
    """The hand-over service the app is given: a real register and journal in a
    directory of their own, what the camera plugins were asked to keep, what was
    published, and a switch that makes the journal's disk fail."""

    desk: HandoverDesk
    directory: Path
    kept: list[tuple[str, datetime, datetime, str]] = field(default_factory=list)
    published: list[Event] = field(default_factory=list)
    disk_fails: bool = False


@pytest.fixture
async def handovers(tmp_path: Path) -> AsyncIterator[Handovers]:
    directory = tmp_path / "handovers"
    directory.mkdir()
    async with Journal(directory / "journal.db") as journal:

        async def append(event: RecordingsHandedOver) -> int:
            if holder.disk_fails:  # a full disk cannot be made on demand
                raise JournalError(journal.path, "disk full")
            (seq,) = await journal.append([event])
            return seq

        def publish(event: Event) -> None:
            holder.published.append(event)

        def keep(camera: str, start: datetime, end: datetime, incident: str) -> None:
            holder.kept.append((camera, start, end, incident))

        holder = Handovers(
            HandoverDesk(
                ["cam-counter"],
                ZoneInfo("Europe/Paris"),
                RegisterStore(directory / REGISTER_FILE),
                append,
                publish,
                keep,
                lambda: HANDOVER_NOW,
            ),
            directory,
        )
        yield holder


@pytest.fixture
def app(
    shop: Shop,
    settings: HttpSettings,
    clock: FakeClock,
    checker: OpenApiChecker,
    readiness: list[Readiness],
    coverage: CoverageReader | None,
    report_maker: ReportMaker,
    handovers: Handovers,
) -> web.Application:
    application = create_app(
        shop.service,
        settings,
        clock=clock,
        readiness=lambda: readiness[-1],
        state=shop.state,
        coverage=coverage,
        coverage_report=report_maker,
        handovers=handovers.desk,
    )
    checker.attach(application)
    return application


@dataclass
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    text: str
    raw: bytes = b""

    @property
    def body(self) -> Any:
        return json.loads(self.text)


class Client:
    """Calls the hub over real HTTP, as a given person."""

    def __init__(self, session: aiohttp.ClientSession, base: str, people: People) -> None:
        self.session = session
        self.base = base
        self.people = people

    def auth(self, who: str | None) -> dict[str, str]:
        return {} if who is None else {"Authorization": f"Bearer {self.people.tokens[who]}"}

    async def call(
        self,
        method: str,
        path: str,
        *,
        who: str | None = "referent",
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Reply:
        all_headers = self.auth(who) | (headers or {})
        async with self.session.request(
            method, self.base + path, headers=all_headers, **kwargs
        ) as response:
            raw = await response.read()  # a PDF is bytes: its text is for no assertion
            return Reply(response.status, response.headers, raw.decode("utf-8", "replace"), raw)

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("POST", path, **kwargs)


@pytest.fixture
async def base_url(
    app: web.Application, checker: OpenApiChecker, request: pytest.FixtureRequest
) -> AsyncIterator[str]:
    async with serve(app) as url:
        yield url
    if request.node.get_closest_marker("internal_error_expected") is None:
        assert app[METRICS].internal_errors == 0, "a request reached the catch-all"
        assert checker.internal_errors == 0
    assert checker.problems == [], "responses that break the OpenAPI document"


@pytest.fixture
async def client(base_url: str, people: People) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as session:
        yield Client(session, base_url, people)


STREAM = "/api/v1/escalations/stream"


async def post_with_stalled_body(client: Client, path: str, who: str = "referent") -> int:
    """POST announcing a 10-byte JSON body, send one byte, wait; return the status."""
    url = URL(client.base)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        token = client.people.tokens[who]
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nContent-Length: 10\r\n\r\n{".encode()
        )
        await writer.drain()
        async with asyncio.timeout(20):
            status_line = await reader.readline()
    finally:
        writer.close()
    return int(status_line.split()[1])


@asynccontextmanager
async def stream(client: Client, who: str = "referent") -> AsyncIterator[SseReader]:
    """The live stream, as ``who``; checks the response is an event stream."""
    async with client.session.get(
        client.base + STREAM, headers=client.auth(who), timeout=aiohttp.ClientTimeout(total=None)
    ) as response:
        assert response.status == 200
        assert response.content_type == "text/event-stream"
        assert response.headers["Cache-Control"] == "no-store"
        yield SseReader(response)
