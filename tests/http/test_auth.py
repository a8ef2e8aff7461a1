"""Bearer tokens, scopes and the lockout of addresses that guess tokens."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.escalation.model import Contact, ContactRole
from hub.http.auth import FailureLimiter
from hub.http.tokens import find_contact, hash_token, is_wellformed_token, new_token
from tests.http.conftest import Client, FakeClock, Reply

ME = "/api/v1/me"


def www_authenticate(reply: Reply) -> str:
    return reply.headers["WWW-Authenticate"]


async def test_no_header_is_401_with_a_challenge(client: Client) -> None:
    reply = await client.get(ME, who=None)
    assert reply.status == 401
    assert reply.body["error"] == "missing_token"
    assert www_authenticate(reply) == 'Bearer realm="ecrin"'


@pytest.mark.parametrize(
    "header",
    [
        "Basic cmVmZXJlbnQ6c2VjcmV0",
        "Bearer",
        "Bearer ",
        "Bearer two words",
        "Bearer tok\u00e9n",
        "Bearer " + "a" * 257,
        "Token abc",
        "bearer",
        "",
    ],
)
async def test_a_malformed_header_is_401(client: Client, header: str) -> None:
    reply = await client.get(ME, who=None, headers={"Authorization": header})
    assert reply.status == 401
    assert reply.body["error"] == "malformed_authorization"
    assert 'error="invalid_request"' in www_authenticate(reply)


async def test_an_unknown_token_is_401(client: Client) -> None:
    reply = await client.get(ME, who=None, headers={"Authorization": f"Bearer {new_token()}"})
    assert reply.status == 401
    assert reply.body["error"] == "invalid_token"
    assert 'error="invalid_token"' in www_authenticate(reply)


async def test_the_scheme_is_case_insensitive(client: Client) -> None:
    token = client.people.tokens["referent"]
    reply = await client.get(ME, who=None, headers={"Authorization": f"bearer {token}"})
    assert reply.status == 200


async def test_a_token_in_the_url_is_not_a_credential(client: Client) -> None:
    token = client.people.tokens["referent"]
    for name in ("token", "access_token"):
        reply = await client.get(f"{ME}?{name}={token}", who=None)
        assert reply.status == 401
        assert reply.body["error"] == "missing_token"


async def test_repeated_bad_tokens_lock_the_address_out(client: Client, clock: FakeClock) -> None:
    bad = {"Authorization": f"Bearer {new_token()}"}
    for _ in range(10):
        reply = await client.get(ME, who=None, headers=bad)
        assert reply.status == 401
    locked = await client.get(ME, who=None, headers=bad)
    assert locked.status == 429
    assert locked.body["error"] == "rate_limited"
    assert locked.headers["Retry-After"] == "60"

    clock.advance(30)
    assert (await client.get(ME, who=None, headers=bad)).headers["Retry-After"] == "30"

    clock.advance(31)
    assert (await client.get(ME, who=None, headers=bad)).status == 401

    metrics = await client.get("/metrics", who=None)
    assert "ecrin_http_auth_failures_total 11" in metrics.text
    assert "ecrin_http_rate_limited_total 2" in metrics.text


async def test_a_valid_token_is_served_while_its_address_is_locked_out(
    client: Client, clock: FakeClock
) -> None:
    """Someone guessing from the referent's address (a shared NAT, the shop's proxy)
    must not cut the referent off during a hold-up."""
    bad = {"Authorization": f"Bearer {new_token()}"}
    for _ in range(10):
        assert (await client.get(ME, who=None, headers=bad)).status == 401
    assert (await client.get(ME, who=None, headers=bad)).status == 429
    for who in ("referent", "installer"):
        reply = await client.get(ME, who=who)
        assert reply.status == 200, who
    # ... and serving it lifted nothing: the guesser is still locked out.
    assert (await client.get(ME, who=None, headers=bad)).status == 429
    assert (await client.get(ME, who=None, headers={"Authorization": "Basic x"})).status == 429


async def test_good_requests_between_guesses_do_not_reset_the_count(
    client: Client, clock: FakeClock
) -> None:
    """One good request every nine bad ones used to clear the count: 180 guesses a
    minute, never a lockout."""
    bad = {"Authorization": f"Bearer {new_token()}"}
    statuses = []
    for _ in range(2):
        for _ in range(9):
            statuses.append((await client.get(ME, who=None, headers=bad)).status)
        assert (await client.get(ME, who="referent")).status == 200
    assert statuses[:10] == [401] * 10
    assert set(statuses[10:]) == {429}


async def test_lockouts_double_for_an_address_that_keeps_guessing(
    client: Client, clock: FakeClock
) -> None:
    bad = {"Authorization": "Basic x"}
    waits = []
    for _ in range(3):
        for _ in range(10):
            assert (await client.get(ME, who=None, headers=bad)).status == 401
        reply = await client.get(ME, who=None, headers=bad)
        assert reply.status == 429
        waits.append(int(reply.headers["Retry-After"]))
        clock.advance(waits[-1] + 1)
    assert waits == [60, 120, 240]


async def test_requests_without_credentials_do_not_count_as_guesses(client: Client) -> None:
    for _ in range(15):
        assert (await client.get(ME, who=None)).status == 401


def test_limiter_counts_within_the_window_only() -> None:
    clock = FakeClock()
    limiter = FailureLimiter(limit=3, window=10, clock=clock)
    limiter.failure("a")
    limiter.failure("a")
    clock.advance(11)
    limiter.failure("a")
    assert limiter.retry_after("a") is None
    limiter.failure("a")
    limiter.failure("a")
    assert limiter.retry_after("a") == 10
    assert limiter.retry_after("b") is None


def test_limiter_caps_lockouts_and_forgives_after_a_quiet_spell() -> None:
    clock = FakeClock()
    limiter = FailureLimiter(limit=1, window=10, max_lockout=30, clock=clock)
    waits = []
    for _ in range(4):
        limiter.failure("a")
        wait = limiter.retry_after("a")
        assert wait is not None
        waits.append(wait)
        clock.advance(wait)
    assert waits == [10, 20, 30, 30]
    clock.advance(31)
    limiter.failure("a")
    assert limiter.retry_after("a") == 10


def test_limiter_remembers_a_bounded_number_of_addresses() -> None:
    clock = FakeClock()
    limiter = FailureLimiter(limit=2, window=10, max_addresses=100, clock=clock)
    limiter.failure("guesser")
    limiter.failure("guesser")
    for n in range(1000):
        limiter.failure(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter) <= 100
    clock.advance(10_000)
    limiter.prune()
    assert len(limiter) == 0


def _contact(cid: str, token_sha256: str | None) -> Contact:
    return Contact(id=cid, name=cid, role=ContactRole.OTHER, token_sha256=token_sha256)


def test_find_contact_matches_the_hash_only() -> None:
    token = new_token()
    alice = _contact("alice", hash_token(token).upper())  # pasted in capitals: still hers
    bob = _contact("bob", hash_token(new_token()))
    nobody = _contact("nobody", None)
    assert find_contact(token, [nobody, bob, alice]) is alice
    assert find_contact(token + "x", [nobody, bob, alice]) is None
    assert find_contact(hash_token(token), [alice]) is None  # the hash is not the token


@given(st.text(max_size=300))
def test_token_checks_never_raise(text: str) -> None:
    contacts = [_contact("a", hash_token("x")), _contact("b", "not hex at all")]
    wellformed = is_wellformed_token(text)
    assert isinstance(wellformed, bool)
    assert find_contact(text, contacts) is None or text == "x"


def test_new_tokens_are_wellformed_and_distinct() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(is_wellformed_token(t) and t.startswith("ecrin_") for t in tokens)
