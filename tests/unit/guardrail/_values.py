"""Generators of realistic planted values for the guardrail tests (fake, checksum-valid)."""

from __future__ import annotations

import random
import string

from hypothesis import strategies as st

from deployments.guardrail.findings import EntityType

_ALNUM = string.ascii_letters + string.digits


def _luhn_check_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def card(rng: random.Random) -> str:
    body = rng.choice(["4", "51", "37", "6011"])
    length = 15 if body == "37" else 16
    body += "".join(rng.choice(string.digits) for _ in range(length - len(body) - 1))
    number = body + _luhn_check_digit(body)
    if rng.random() < 0.5 and length == 16:
        return " ".join(number[i : i + 4] for i in range(0, 16, 4))
    return number


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def iban(rng: random.Random) -> str:
    bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + "".join(
        rng.choice(string.digits) for _ in range(14)
    )
    numeric = "".join(str(int(c, 36)) for c in bban + "GB00")
    return f"GB{98 - int(numeric) % 97:02d}{bban}"


def email(rng: random.Random) -> str:
    local = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9)))
    if rng.random() < 0.5:
        local += "." + "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 7)))
    domain = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9)))
    return f"{local}@{domain}.{rng.choice(['com', 'org', 'net', 'io', 'de'])}"


def phone(rng: random.Random) -> str:
    area = rng.choice(["212", "415", "617", "312", "206", "303"])
    exchange = rng.choice([e for e in range(201, 999) if e % 100 != 11 and e != 555])
    return f"+1 {area}-{exchange}-{rng.randint(0, 9999):04d}"


def aws_key(rng: random.Random) -> str:
    return "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))


def github_token(rng: random.Random) -> str:
    return "ghp_" + "".join(rng.choice(_ALNUM) for _ in range(36))


def openai_key(rng: random.Random) -> str:
    return "sk-proj-" + "".join(rng.choice(_ALNUM) for _ in range(48))


def password(rng: random.Random) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(10)) + rng.choice("!@#%^&*") + str(rng.randint(10, 99))


# (type, generator, template): the template gives the context the value is written in.
PLANTS: tuple[tuple[EntityType, object, str], ...] = (
    (EntityType.CREDIT_CARD, card, "my card is {}"),
    (EntityType.US_SSN, ssn, "SSN {}"),
    (EntityType.IBAN, iban, "IBAN {}"),
    (EntityType.EMAIL, email, "write to {}"),
    (EntityType.PHONE, phone, "call {}"),
    (EntityType.AWS_ACCESS_KEY, aws_key, "key {}"),
    (EntityType.GITHUB_TOKEN, github_token, "token {}"),
    (EntityType.OPENAI_KEY, openai_key, "use {}"),
    (EntityType.PASSWORD, password, "password: {}"),
)


@st.composite
def planted(draw: st.DrawFn) -> tuple[EntityType, str, str]:
    """One planted value: its type, the value and the phrase that carries it."""
    entity, generate, template = draw(st.sampled_from(PLANTS))
    value = generate(random.Random(draw(st.integers(0, 2**32))))  # type: ignore[operator]
    return entity, value, template.format(value)


FILLER = st.sampled_from(
    [
        "the",
        "report",
        "is",
        "ready",
        "please",
        "check",
        "it",
        "tomorrow",
        "and",
        "let",
        "me",
        "know",
        "what",
        "you",
        "think",
        "about",
        "the",
        "plan",
    ]
)


@st.composite
def message_with_plants(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A message of filler words and planted phrases, and the planted values."""
    parts: list[str] = []
    values: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        parts.extend(draw(st.lists(FILLER, max_size=5)))
        _, value, phrase = draw(planted())
        parts.append(phrase + draw(st.sampled_from(["", ".", ","])))
        values.append(value)
    parts.extend(draw(st.lists(FILLER, max_size=5)))
    return " ".join(parts), values
