"""PII detection: a cheap regex proposes candidates, a checksum or library validates them.

Credit cards pass Luhn and a card-network prefix; US SSNs pass the SSA's invalid-range
rules; IBANs pass their country length and mod-97; IP addresses parse with
``ipaddress``; phone numbers parse with ``phonenumbers`` for a list of regions. A
candidate preceded by "order", "invoice", "tracking", … is taken for the identifier it is
said to be, unless the same context also names a card or a phone.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache

import phonenumbers

from deployments.guardrail.findings import EntityType, Finding

__all__ = ["DEFAULT_PHONE_REGIONS", "PiiDetector", "iban_valid", "luhn_valid", "ssn_valid"]

T = EntityType

DEFAULT_PHONE_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "AU", "IN", "CA", "BR", "IT", "ES", "NL", "SE")

_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,24}\b")
_CARD = re.compile(r"(?<![\w+-])\d(?:[ -]?\d){11,}(?![\w])")
_SSN = re.compile(r"(?<![\w-])(\d{3})([- .]?)(\d{2})\2(\d{4})(?![\w]|-\d)")
_IBAN = re.compile(r"(?i)(?<![\w])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,34}")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
_PHONE = re.compile(
    r"(?<![\w+@/.:-])(?:\+|00)?\(?\d[\d \t().-]{4,20}\d(?:[ \t]*(?:x|ext\.?|extension)[ \t]*\d{1,5})?(?![\w@]|[.-]\d)"
)
_AT = re.compile("@")
_URL_USERINFO = re.compile(r"://[^\s:/@]*:$")
_DIGIT_RUN = re.compile(r"[+(]?\d[\d \t().:/+-]{4,}")
_DATE = re.compile(r"^(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$|\d{4}[./-]\d{1,2}[./-]\d{1,2}(?!\d))")

_IDENTIFIER_CONTEXT = re.compile(
    r"(?i)(?:order|invoice|inv|tracking|ticket|case|ref(?:erence)?|sku|isbn|serial|account|acct|po|shipment|"
    r"booking|confirmation|transaction|txn|receipt|customer|member|policy|claim|licen[cs]e|passport|id|no\.?|number|#)"
    r"(?:\s+(?:is|was|number|no\.?|id))?\W{0,4}$"
)
_CARD_CONTEXT = re.compile(
    r"(?i)card|visa|master|amex|american express|discover|jcb|diners|maestro|credit|debit|\bcc\b"
)
_PHONE_CONTEXT = re.compile(
    r"(?i)phone|tel\b|mobile|cell|call|fax|whatsapp|contact|reach|dial|text me|sms|desk|answering|messages? to|"
    r"registered|office|landline|hotline"
)
_PHONE_LABEL_AFTER = re.compile(r"(?i)^\W{0,3}(?:office|fax|mobile|cell|home|work|desk|phone|tel)\b")
_SSN_CONTEXT = re.compile(r"(?i)ssn|social security|social sec|ss#|\btin\b|tax id")
_VERSION_CONTEXT = re.compile(r"(?i)(?:version|ver\.?|\bv|release|build)\s*$")

_IBAN_LENGTHS = {
    entry[:2]: int(entry[2:])
    for entry in [
        "AD24",
        "AE23",
        "AL28",
        "AT20",
        "AZ28",
        "BA20",
        "BE16",
        "BG22",
        "BH22",
        "BR29",
        "BY28",
        "CH21",
        "CR22",
        "CY28",
        "CZ24",
        "DE22",
        "DK18",
        "DO28",
        "EE20",
        "EG29",
        "ES24",
        "FI18",
        "FO18",
        "FR27",
        "GB22",
        "GE22",
        "GI23",
        "GL18",
        "GR27",
        "GT28",
        "HR21",
        "HU28",
        "IE22",
        "IL23",
        "IQ23",
        "IS26",
        "IT27",
        "JO30",
        "KW30",
        "KZ20",
        "LB28",
        "LC32",
        "LI21",
        "LT20",
        "LU20",
        "LV21",
        "MC27",
        "MD24",
        "ME22",
        "MK19",
        "MR27",
        "MT31",
        "MU30",
        "NL18",
        "NO15",
        "PK24",
        "PL28",
        "PS29",
        "PT25",
        "QA29",
        "RO24",
        "RS22",
        "SA24",
        "SC31",
        "SE24",
        "SI19",
        "SK24",
        "SM27",
        "ST25",
        "SV28",
        "TL23",
        "TN24",
        "TR26",
        "UA29",
        "VA22",
        "VG24",
        "XK20",
    ]
}


def _windows(text: str, anchor: re.Pattern[str], before: int, after: int) -> list[tuple[int, int]]:
    """Merged ``[start, end)`` ranges around each match of ``anchor``."""
    merged: list[tuple[int, int]] = []
    for m in anchor.finditer(text):
        start, end = max(0, m.start() - before), min(len(text), m.end() + after)
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_network(digits: str) -> bool:
    n = len(digits)
    if not 12 <= n <= 19:
        return False
    two, four = int(digits[:2]), int(digits[:4])
    return digits[0] in "456" or two in (30, 34, 35, 36, 37, 38, 39) or 2221 <= four <= 2720 or four in (2131, 1800)


def ssn_valid(area: str, group: str, serial: str) -> bool:
    """The SSA never issues area 000, 666 or 900-999, group 00 or serial 0000."""
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def iban_valid(compact: str) -> bool:
    """Country length and the ISO 13616 mod-97 check on an upper-case IBAN without spaces."""
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


class PiiDetector:
    """Finds emails, phone numbers, credit cards, US SSNs, IBANs and IP addresses."""

    def __init__(self, phone_regions: Sequence[str] = DEFAULT_PHONE_REGIONS) -> None:
        self.phone_regions = tuple(phone_regions)

    def detect(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        for start, end in _windows(text, _AT, 64, 256):
            for m in _EMAIL.finditer(text, start, end):
                # user:password@host in a URL is a credential, which the secret rules report.
                if not _URL_USERINFO.search(text, max(0, m.start() - 80), m.start()):
                    found.append(Finding(T.EMAIL, m.start(), m.end(), 0.95, "regex:EMAIL"))
        # The number-shaped types are searched only around runs of digits: one cheap pass
        # over the text instead of one per pattern.
        for start, end in _windows(text, _DIGIT_RUN, 16, 8):
            checked = [
                *self._cards(text, start, end),
                *self._ssns(text, start, end),
                *self._ibans(text, start, end),
                *self._ipv4(text, start, end),
            ]
            found.extend(checked)
            # A checksum-validated number outranks the phone number its digits resemble.
            taken = [(f.start, f.end) for f in checked]
            found.extend(
                p for p in self._phones(text, start, end) if not any(p.start < b and p.end > a for a, b in taken)
            )
        if "::" in text or text.count(":") >= 7:
            found.extend(self._ipv6(text))
        return found

    def _cards(self, text: str, start: int, end: int) -> Iterator[Finding]:
        for m in _CARD.finditer(text, start, end):
            groups = [(g.start() + m.start(), g.end() + m.start()) for g in re.finditer(r"\d+", m.group())]
            card_context = _CARD_CONTEXT.search(text, max(0, m.start() - 40), m.start()) is not None
            i = 0
            while i < len(groups):  # left to right, the longest valid run of whole digit groups
                for j in range(min(len(groups), i + 19), i, -1):
                    digits = "".join(text[a:b] for a, b in groups[i:j])
                    network = _card_network(digits) or (card_context and 12 <= len(digits) <= 19)
                    if network and luhn_valid(digits):
                        break
                else:
                    i += 1
                    continue
                first, last = groups[i][0], groups[j - 1][1]
                i = j
                before = text[max(0, first - 40) : first]
                if _IDENTIFIER_CONTEXT.search(before) and not _CARD_CONTEXT.search(before):
                    continue
                yield Finding(T.CREDIT_CARD, first, last, 0.95, "luhn")

    def _ssns(self, text: str, start: int, end: int) -> Iterator[Finding]:
        for m in _SSN.finditer(text, start, end):
            if not ssn_valid(m.group(1), m.group(3), m.group(4)):
                continue
            context = _SSN_CONTEXT.search(text, max(0, m.start() - 40), m.start())
            if m.group(2):
                yield Finding(T.US_SSN, m.start(), m.end(), 0.95 if context else 0.85, "ssn")
            elif context:  # nine bare digits are an SSN only when the text says so
                yield Finding(T.US_SSN, m.start(), m.end(), 0.8, "ssn")

    def _ibans(self, text: str, start: int, end: int) -> Iterator[Finding]:
        # Searched step by step: a greedy candidate may run into the next IBAN, which must
        # still be found after the first one is cut to its country's length.
        m = _IBAN.search(text, start, end)
        while m is not None:
            resume = m.start() + 1
            expected = _IBAN_LENGTHS.get(m.group()[:2].upper())
            taken, stop = 0, m.start()
            for stop, ch in enumerate(m.group(), start=m.start() + 1):
                taken += ch != " "
                if taken == expected:
                    break
            complete = bool(expected) and taken == expected and not (stop < len(text) and text[stop].isalnum())
            if complete and iban_valid(text[m.start() : stop].replace(" ", "").upper()):
                yield Finding(T.IBAN, m.start(), stop, 0.95, "mod97")
                resume = stop
            m = _IBAN.search(text, resume, end)

    def _ipv4(self, text: str, start: int, end: int) -> Iterator[Finding]:
        for m in _IPV4.finditer(text, start, end):
            try:
                address = ipaddress.IPv4Address(m.group())
            except ValueError:
                continue
            if address.is_loopback or address.is_unspecified or address == ipaddress.IPv4Address("255.255.255.255"):
                continue
            if _VERSION_CONTEXT.search(text, max(0, m.start() - 12), m.start()):
                continue
            yield Finding(T.IP_ADDRESS, m.start(), m.end(), 0.85, "ipaddress")

    def _ipv6(self, text: str) -> Iterator[Finding]:
        for m in _IPV6.finditer(text):
            candidate = m.group()
            if sum(c not in ":" for c in candidate) < 3:
                continue
            try:
                address = ipaddress.IPv6Address(candidate)
            except ValueError:
                continue
            if not (address.is_loopback or address.is_unspecified):
                yield Finding(T.IP_ADDRESS, m.start(), m.end(), 0.85, "ipaddress")

    def _phones(self, text: str, start: int, end: int) -> Iterator[Finding]:
        for m in _PHONE.finditer(text, start, end):
            candidate = m.group().rstrip(" \t.-(")
            if candidate.count("(") != candidate.count(")") and not candidate.startswith("("):
                candidate = candidate.rstrip(")")
            digits = sum(c.isdigit() for c in candidate)
            if not 7 <= digits <= 15 or _DATE.match(candidate):
                continue
            before = text[max(0, m.start() - 40) : m.start()]
            after = text[m.start() + len(candidate) : m.start() + len(candidate) + 12]
            phone_context = bool(_PHONE_CONTEXT.search(before) or _PHONE_LABEL_AFTER.match(after))
            if _IDENTIFIER_CONTEXT.search(before) and not phone_context:
                continue
            international = candidate.startswith(("+", "00"))
            separated = any(c in candidate for c in " -.()")
            # Short digit groups are house numbers, zip codes and times as often as phones.
            if not (international or phone_context or (digits >= 10 and (separated or digits == 10))):
                continue
            score = self._phone_score(candidate, international, separated or phone_context)
            if score:
                yield Finding(T.PHONE, m.start(), m.start() + len(candidate), score, "phonenumbers")

    def _phone_score(self, candidate: str, international: bool, shaped: bool) -> float:
        return _phone_score(candidate, international, shaped, self.phone_regions)


@lru_cache(maxsize=4096)
def _phone_score(candidate: str, international: bool, shaped: bool, regions: tuple[str, ...]) -> float:
    # Parsing costs ~50 us per region; prompts repeat their numbers, so results are cached.
    possible = False
    if candidate.startswith("00"):
        candidate = "+" + candidate[2:]
    for region in (None,) if international else regions:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return 0.85 if international else 0.75
        possible = possible or phonenumbers.is_possible_number(number)
    # A merely possible number counts only when it is written like a phone number.
    return 0.6 if possible and shaped else 0.0
