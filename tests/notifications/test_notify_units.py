"""The pure parts: the retry schedule and its jitter, Retry-After, preference matching, signing
as the reference library verifies it, the address guard, and the settings."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from asfmatch.storage.notifications import NeedFacts, Preferences
from asfmatch.storage.outbound import Refused, address_problem, check_url
from asfmatch.storage.settings import Settings, SettingsError
from asfmatch.storage.webhooks import new_secret, signature_header
from asfmatch.workers.notifications import wants
from asfmatch.workers.webhooks import MAX_ATTEMPTS, RETRY_SCHEDULE, parse_retry_after, retry_delay

HOUR = 3600.0


def test_the_schedule_is_the_one_the_issue_asks_for() -> None:
    assert RETRY_SCHEDULE == (
        0,
        5,
        5 * 60,
        30 * 60,
        2 * HOUR,
        5 * HOUR,
        10 * HOUR,
        14 * HOUR,
        20 * HOUR,
        24 * HOUR,
    )
    assert MAX_ATTEMPTS == 10


def test_each_retry_waits_its_step_within_ten_percent_jitter() -> None:
    rng = random.Random(7)
    for failed in range(1, MAX_ATTEMPTS):
        draws = [retry_delay(failed, rng=rng) for _ in range(200)]
        step = RETRY_SCHEDULE[failed]
        assert all(d is not None and step * 0.9 <= d <= step * 1.1 for d in draws)
        assert len({round(d or 0, 6) for d in draws}) > 100, "jittered, not constant"
    assert retry_delay(MAX_ATTEMPTS) is None, "the tenth failure is the last"


def test_the_jitter_spans_both_sides_of_the_step() -> None:
    low = retry_delay(1, rng=_Fixed(0.0))
    high = retry_delay(1, rng=_Fixed(0.999999))
    assert low == pytest.approx(4.5) and high == pytest.approx(5.5, rel=1e-5)


def test_retry_after_is_a_floor_and_capped_at_a_day() -> None:
    assert retry_delay(1, retry_after=120, rng=_Fixed(0.5)) == 120
    assert retry_delay(3, retry_after=10, rng=_Fixed(0.5)) == pytest.approx(1800)
    assert retry_delay(1, retry_after=10 * 86400, rng=_Fixed(0.5)) == 86400
    assert retry_delay(MAX_ATTEMPTS, retry_after=1) is None


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    later = format_datetime(now + timedelta(minutes=10), usegmt=True)
    assert parse_retry_after(later, now) == 600
    past = format_datetime(now - timedelta(minutes=10), usegmt=True)
    assert parse_retry_after(past, now) == 0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None


def test_signatures_verify_with_the_reference_library_for_each_secret() -> None:
    old, new = new_secret(), new_secret()
    body = '{"type":"webhook.test","timestamp":"2026-03-01T12:00:00Z","data":{}}'
    timestamp = int(datetime.now(UTC).timestamp())
    header = signature_header([new, old], "msg_1", timestamp, body)
    assert header.count("v1,") == 2
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(timestamp)}
    for secret in (old, new):
        assert Webhook(secret).verify(body, {**headers, "webhook-signature": header})
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, {**headers, "webhook-signature": header})
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body + " ", {**headers, "webhook-signature": header})


def test_secrets_carry_the_prefix_and_at_least_24_random_bytes() -> None:
    import base64

    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert secret.startswith("whsec_")
        assert 24 <= len(base64.b64decode(secret.removeprefix("whsec_"))) <= 64


@pytest.mark.parametrize(
    ("chosen", "need", "expected"),
    [
        ({}, {"lan": "25", "cpv_codes": ["90911200"], "score": 0.3}, True),
        ({}, {"lan": "25", "cpv_codes": [], "score": 0.1}, False),  # under the service's floor
        ({"min_score": 0.5}, {"lan": "25", "cpv_codes": [], "score": 0.4}, False),
        ({"lan": ["25", "20"]}, {"lan": "20", "cpv_codes": [], "score": 0.3}, True),
        ({"lan": ["25"]}, {"lan": "01", "cpv_codes": [], "score": 0.3}, False),
        ({"cpv_prefixes": ["9091"]}, {"lan": "25", "cpv_codes": ["90911200"], "score": 0.3}, True),
        ({"cpv_prefixes": ["5552"]}, {"lan": "25", "cpv_codes": ["90911200"], "score": 0.3}, False),
        ({"cpv_prefixes": ["5552"]}, {"lan": "25", "cpv_codes": [], "score": 0.3}, False),
    ],
)
def test_preferences_decide_which_needs_pass(
    chosen: dict[str, object], need: dict[str, object], expected: bool
) -> None:
    preferences = Preferences(supplier_id=1, **chosen)  # type: ignore[arg-type]
    facts = NeedFacts(id=1, **need)  # type: ignore[arg-type]
    assert wants(preferences, facts, floor=0.15) is expected


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1%eth0", "a link-local address"),
        ("10.0.0.1", "a private address"),
        ("172.31.255.255", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("0.0.0.0", "a private address"),
        ("100.64.0.1", "not a public address"),
        ("224.0.0.1", "a multicast address"),
        ("93.184.215.14", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_the_address_guard(address: str, problem: str | None) -> None:
    assert address_problem(address) == problem


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.se/",
        "example.se/hook",
        "https://",
        "https://user:secret@example.se/",
        "https://example.se:99999/",
        "https://example.se/hook#part",
    ],
)
def test_urls_that_are_not_plain_http_endpoints_are_refused(url: str) -> None:
    with pytest.raises(Refused):
        check_url(url)


def test_a_plain_url_splits_into_scheme_host_and_port() -> None:
    assert check_url("https://hooks.example.se/asf?x=1") == ("https", "hooks.example.se", 443)
    assert check_url("http://[2606:4700::1]:8080/") == ("http", "2606:4700::1", 8080)


def test_notification_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "ASFMATCH_NOTIFY_TOP_N": "5",
            "ASFMATCH_NOTIFY_MIN_SCORE": "0.3",
            "ASFMATCH_NOTIFY_DAILY_CAP": "7",
            "ASFMATCH_WEBHOOK_ALLOW_PRIVATE": "true",
            "ASFMATCH_SMTP_HOST": "smtp.example.se",
            "ASFMATCH_SMTP_SECURITY": "TLS",
        }
    )
    assert (settings.notify_top_n, settings.notify_min_score, settings.notify_daily_cap) == (
        5,
        0.3,
        7,
    )
    assert settings.webhook_allow_private and settings.smtp_security == "tls"
    assert Settings.from_env({}).webhook_allow_private is False
    assert Settings.from_env({}).smtp_host is None
    with pytest.raises(SettingsError, match="ASFMATCH_SMTP_SECURITY"):
        Settings.from_env({"ASFMATCH_SMTP_SECURITY": "ssl3"})
    with pytest.raises(SettingsError, match="ASFMATCH_WEBHOOK_ALLOW_PRIVATE"):
        Settings.from_env({"ASFMATCH_WEBHOOK_ALLOW_PRIVATE": "perhaps"})


class _Fixed(random.Random):
    """A 'random' source that always draws the same number."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value
