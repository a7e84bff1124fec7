"""PII detectors: checksums, invalid ranges, look-alikes that must stay untouched."""

from __future__ import annotations

import pytest

from deployments.guardrail.findings import EntityType
from deployments.guardrail.pii import PiiDetector, iban_valid, luhn_valid, ssn_valid
from deployments.guardrail.scanner import Scanner

T = EntityType


@pytest.mark.parametrize(
    ("digits", "valid"),
    [("4111111111111111", True), ("4111111111111112", False), ("378282246310005", True), ("6011111111111117", True)],
    ids=["visa", "visa-bad-check", "amex", "discover"],
)
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


@pytest.mark.parametrize(
    ("ssn", "valid"),
    [
        ("123-45-6789", True),
        ("000-12-3456", False),
        ("666-12-3456", False),
        ("912-12-3456", False),
        ("123-00-4567", False),
        ("123-45-0000", False),
    ],
    ids=["ok", "area-000", "area-666", "area-9xx", "group-00", "serial-0000"],
)
def test_ssn_ranges(ssn: str, valid: bool) -> None:
    area, group, serial = ssn.split("-")
    assert ssn_valid(area, group, serial) is valid


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("GB82WEST12345698765432", True),
        ("GB82WEST12345698765433", False),
        ("DE89370400440532013000", True),
        ("DE8937040044053201300", False),
    ],
    ids=["gb", "gb-bad-check", "de", "de-short"],
)
def test_iban_mod97(iban: str, valid: bool) -> None:
    assert iban_valid(iban) is valid


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("Mail me at jane.doe@example.com today", T.EMAIL, "jane.doe@example.com"),
        ("card 4111 1111 1111 1111 exp 12/27", T.CREDIT_CARD, "4111 1111 1111 1111"),
        ("Amex 3782-822463-10005 please", T.CREDIT_CARD, "3782-822463-10005"),
        ("My SSN is 123-45-6789.", T.US_SSN, "123-45-6789"),
        ("ssn: 123456789", T.US_SSN, "123456789"),
        ("IBAN GB82 WEST 1234 5698 7654 32 for the refund", T.IBAN, "GB82 WEST 1234 5698 7654 32"),
        ("iban de89370400440532013000", T.IBAN, "de89370400440532013000"),
        ("call +44 20 7946 0958 now", T.PHONE, "+44 20 7946 0958"),
        ("Phone: (415) 555-2671", T.PHONE, "(415) 555-2671"),
        ("server at 192.168.1.20 is down", T.IP_ADDRESS, "192.168.1.20"),
        ("v6 host 2001:db8:85a3::8a2e:370:7334 answers", T.IP_ADDRESS, "2001:db8:85a3::8a2e:370:7334"),
    ],
    ids=[
        "email",
        "card-spaced",
        "amex-dashed",
        "ssn",
        "ssn-bare-with-context",
        "iban-grouped",
        "iban-lower",
        "phone-intl",
        "phone-us-context",
        "ipv4",
        "ipv6",
    ],
)
def test_detects(scanner: Scanner, text: str, entity: EntityType, value: str) -> None:
    found = [(f.type, text[f.start : f.end]) for f in scanner.scan(text)]
    assert (entity, value) in found


@pytest.mark.parametrize(
    "text",
    [
        "Order #4111111111111111 has shipped",
        "invoice number 4539578763621486",
        "Your order 100234987 ships Monday",
        "the code 123456789 was printed",
        "SSN 666-12-3456 is not issued",
        "The meeting is on 2024-03-15 at 10:30.",
        "When: 2005-07-21 18:19:22",
        "version 1.2.3.4 released",
        "localhost is 127.0.0.1",
        "ISBN 978-3-16-148410-0",
        "tracking 1Z999AA10123456784",
        "GB82WEST12345698765433 has a bad check",
        "mac 00:1A:2B:3C:4D:5E",
    ],
    ids=[
        "order-luhn",
        "invoice-luhn",
        "order-number",
        "bare-nine-digits",
        "ssn-666",
        "date-time",
        "timestamp",
        "version",
        "loopback",
        "isbn",
        "ups-tracking",
        "iban-bad-check",
        "mac-address",
    ],
)
def test_look_alikes_are_not_pii(scanner: Scanner, text: str) -> None:
    assert scanner.scan(text) == []


def test_spans_refer_to_the_input(scanner: Scanner) -> None:
    text = "é ünïcode first, then bob@corp.io and 4111111111111111"
    found = sorted((f.type, text[f.start : f.end]) for f in scanner.scan(text))
    assert found == [(T.CREDIT_CARD, "4111111111111111"), (T.EMAIL, "bob@corp.io")]


def test_phone_regions_are_configurable() -> None:
    text = "Mobile: 0491 570 156"  # an Australian mobile number
    (au,) = PiiDetector(phone_regions=("AU",)).detect(text)
    (us,) = PiiDetector(phone_regions=("US",)).detect(text)
    assert (au.type, au.score) == (T.PHONE, 0.75)  # valid in Australia
    assert us.score < au.score  # only a possible number in the US
