"""Structured checks that refuse a cached answer outright: two questions that disagree on a number, an identifier,
a negation, a direction, an opposite, a date, a unit, a scope, a role or a name ask for different answers, however
close their embeddings are. Each check names what differs, so ``tollgate cache probe`` and the metrics can say
which one refused a candidate.

The checks are conservative by design: they fire only when both texts carry the kind of word in question and the
two disagree (or, for scope and dates, when one side adds it), so paraphrases, which keep those words, pass."""

from __future__ import annotations

import re

from deployments.cache.verifier import _STOPWORDS, analyze

__all__ = ["CHECKS", "conflict"]

_IDENTIFIER = re.compile(r"`[^`]+`|\b\w*[A-Za-z]\w*\d\w*\b|\b\w*\d\w*[A-Za-z]\w*\b|\b[a-z]+_[a-z0-9_]+\b|"
                         r"\b[a-z]+[A-Z][A-Za-z0-9]*\b|\b[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*\b|(?<!\S)--?[A-Za-z][A-Za-z0-9-]*|"
                         r"\b[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+\b|\b[A-Z]{5,}\b|\b[A-Z]{2,}[a-z]{2,}[A-Za-z0-9]*\b")
_NUMBER_TOKEN = re.compile(r"\d+(?:[.,]\d+)*")
_NUMBER_WORDS = {
    "zero": "0", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15",
    "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19", "sixty": "60", "seventy": "70",
    "eighty": "80", "ninety": "90", "twenty": "20", "thirty": "30",
    "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000", "dozen": "12", "half": "0.5",
    "third": "3", "fourth": "4", "fifth": "5", "sixth": "6", "seventh": "7", "eighth": "8", "ninth": "9", "tenth": "10",
}
_OPPOSITES = [
    ("earliest", "latest"), ("early", "late"), ("lowest", "highest"), ("low", "high"), ("cheapest", "expensive"),
    ("min", "max"), ("minimum", "maximum"), ("before", "after"), ("more", "less"), ("more", "fewer"),
    ("faster", "slower"), ("fastest", "slowest"), ("increase", "decrease"), ("largest", "smallest"),
    ("biggest", "smallest"), ("oldest", "newest"), ("older", "newer"), ("first", "last"), ("best", "worst"),
    ("above", "below"), ("upload", "download"), ("import", "export"), ("enable", "disable"), ("enabled", "disabled"),
    ("add", "remove"), ("start", "stop"), ("open", "close"), ("inbound", "outbound"), ("ascending", "descending"),
    ("upgrade", "downgrade"), ("encrypt", "decrypt"), ("lock", "unlock"), ("allow", "deny"), ("buy", "sell"),
    ("higher", "lower"), ("longest", "shortest"), ("most", "least"), ("top", "bottom"),
    ("internal", "external"), ("public", "private"), ("incoming", "outgoing"), ("credit", "debit"),
    ("primary", "secondary"), ("input", "output"), ("read", "write"), ("sender", "recipient"),
    ("create", "delete"), ("install", "uninstall"), ("subscribe", "unsubscribe"), ("approve", "reject"),
    ("grant", "revoke"), ("accept", "decline"), ("include", "exclude"), ("included", "excluded"),
    ("promote", "demote"), ("attach", "detach"), ("mount", "unmount"), ("connect", "disconnect"),
    ("block", "unblock"), ("freeze", "unfreeze"), ("pause", "resume"), ("activate", "deactivate"),
    ("register", "deregister"), ("show", "hide"), ("send", "receive"), ("deposit", "withdraw"),
    ("deposits", "withdrawals"), ("borrow", "lend"), ("push", "pull"), ("profit", "loss"), ("pass", "fail"),
    ("valid", "invalid"), ("available", "unavailable"), ("domestic", "international"),
    ("temporary", "permanent"), ("manual", "automatic"), ("paid", "unpaid"),
    ("over", "under"), ("earlier", "later"), ("passed", "failed"), ("succeeded", "failed"),
    ("overdue", "upcoming"), ("reduce", "increase"),
    ("junior", "senior"), ("inside", "outside"), ("ahead", "behind"), ("gain", "lose"), ("win", "lose"),
    ("gained", "lost"), ("weekday", "weekend"), ("weekdays", "weekends"), ("encrypted", "unencrypted"),
    ("signed", "unsigned"), ("fewest", "most"), ("closest", "farthest"), ("closest", "furthest"),
    ("nearest", "farthest"), ("nearest", "furthest"), ("closer", "farther"), ("nearer", "farther"), ("near", "far"),
    ("greatest", "least"), ("greatest", "smallest"), ("greater", "smaller"), ("rose", "fell"), ("rise", "fall"),
    ("rising", "falling"), ("risen", "fallen"), ("rose", "dropped"), ("rise", "drop"), ("louder", "quieter"),
    ("loudest", "quietest"), ("deepest", "shallowest"), ("deeper", "shallower"), ("deep", "shallow"),
    ("improve", "worsen"), ("improving", "worsening"), ("improved", "worsened"), ("heaviest", "lightest"),
    ("heavier", "lighter"), ("heavy", "light"), ("strongest", "weakest"), ("stronger", "weaker"),
    ("exceed", "below"), ("exceeds", "below"), ("exceeded", "below"), ("raise", "lower"), ("raised", "lowered"),
    ("buff", "nerf"), ("buffed", "nerfed"), ("widest", "narrowest"), ("wider", "narrower"), ("hottest", "coldest"),
    ("warmer", "colder"), ("busiest", "quietest"), ("busier", "quieter"), ("richest", "poorest"),
    ("positive", "negative"), ("gains", "losses"), ("surplus", "deficit"),
    ("permissive", "restrictive"), ("strict", "lenient"), ("strictest", "loosest"), ("tighter", "looser"),
    ("backend", "frontend"), ("back-end", "front-end"), ("server-side", "client-side"),
]
# Prefixes that make a word its opposite: overprovisioned / underprovisioned, upstream / downstream.
_OPPOSITE_PREFIXES = (("over", "under"), ("up", "down"), ("pre", "post"))
_OPPOSITE: dict[str, set[str]] = {}
for _a, _b in _OPPOSITES:
    _OPPOSITE.setdefault(_a, set()).add(_b)
    _OPPOSITE.setdefault(_b, set()).add(_a)
_COLLECTIVE = frozenset({"all", "every", "everyone", "everyone's", "everybody", "everybody's", "entire", "whole",
                         "each", "company-wide", "organization-wide", "org-wide", "globally"})
_DATES = frozenset({
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march",
    "april", "may", "june", "july", "august", "september", "october", "november", "december", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "today", "tomorrow", "yesterday", "tonight",
    "weekend", "weekday", "christmas", "easter", "thanksgiving", "halloween", "hanukkah", "diwali", "ramadan",
    "morning", "afternoon", "evening", "overnight", "noon", "midnight", "midday", "summer", "winter",
    "autumn", "semester", "trimester",
})
# "May I ask …": the month only where a date reads it so.
_MAY_MONTH = re.compile(r"\b(?:in|on|of|since|until|by|before|after|early|late|mid)\s+may\b|\bmay\s+\d")
_RELATIVE = re.compile(
    r"\b(last|next|this|previous|current|coming|past|upcoming|following|prior)\s+(week|weekend|month|year|quarter|"
    r"sprint|day|night|morning|afternoon|evening|semester|term|season|shift|cycle|release|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|january|february|march|april|may|june|july|august|september|october|"
    r"november|december|spring|fall|summer|winter|autumn|fiscal year|financial year|pay period|billing cycle)\b")
_WORD = re.compile(r"[A-Za-z]+")
_MONTH_OF = {"jan": "january", "feb": "february", "mar": "march", "apr": "april", "jun": "june", "jul": "july",
             "aug": "august", "sep": "september", "sept": "september", "oct": "october", "nov": "november",
             "dec": "december"}
# Courtesy that carries scope, negation or time words: "Hi all", "hope all is well", "hope you don't mind",
# "hope the week is going well" ask nothing.
_COURTESY = re.compile(
    r"\bhope (?:that )?(?:you(?:'re| are)? |all |everyone |things )?(?:all )?(?:is |are )?"
    r"(?:well|good|great|doing well)\b"
    r"|\bhope (?:the|your) (?:week|day|weekend|morning|afternoon) (?:is going|went|has been) (?:well|great|good)\b"
    r"|\b(?:hi|hello|hey|thanks|thank you|morning) (?:all|everyone|team|folks)\b|\b(?:hope|if) you don'?t mind\b"
    r"|\bgood (?:morning|afternoon|evening|night)\b|\bhave a (?:nice|good|great) (?:day|week|weekend)\b"
    r"|\bthanks? (?:you )?in advance\b", re.IGNORECASE)
# "all weekend" is a stretch of time, not a scope.
_ALL_TIME = re.compile(r"\ball (?=(?:day|night|week|weekend|month|year|morning|afternoon|evening)\b)", re.IGNORECASE)
_CLOCK_TIME = re.compile(r"\b(\d{1,2})(?::(\d\d))?\s*([ap])\.?\s?m\b\.?", re.IGNORECASE)
_NON = re.compile(r"\bnon[-\s]+(?=[a-z])", re.IGNORECASE)
_KILO_HOUR = re.compile(r"\b(kilo|mega|giga)watt[-\s]hours?\b", re.IGNORECASE)  # one unit, "kWh", not watts and hours
_CLOCK = re.compile(r"\d\s*([ap])\.?m\b")
# "Spring Boot" and "fall back" are not seasons; "spring term" and "in the fall" are.
_SEASON = re.compile(r"\b(?:spring|fall)\s+(?:term|semester|quarter|season|intake|break)\b|"
                     r"\b(?:in|this|next|last|during)\s+(?:the\s+)?(?:spring|fall)\b")
_UNIT_GROUPS = {
    "kg": "kg kilogram kilograms kilo kilos", "g": "gram grams", "lb": "lb lbs pound pounds", "oz": "oz ounce ounces",
    "km": "km kilometer kilometers kilometre kilometres", "mi": "mile miles", "meter": "meter meters metre metres",
    "cm": "cm centimeter centimeters", "mm": "mm millimeter millimeters", "ft": "ft foot feet", "in": "inch inches",
    "kb": "kb kib kilobyte kilobytes", "mb": "mb mib megabyte megabytes", "gb": "gb gib gigabyte gigabytes",
    "tb": "tb tib terabyte terabytes", "mbps": "mbps", "gbps": "gbps", "celsius": "celsius °c",
    "fahrenheit": "fahrenheit °f", "ms": "ms millisecond milliseconds", "second": "second seconds secs",
    "minute": "minute minutes mins", "hour": "hour hours hourly", "day": "day days daily",
    "week": "week weeks weekly", "month": "month months monthly", "quarter": "quarter quarters quarterly",
    "year": "year years yearly annual annually", "liter": "liter liters litre litres", "gallon": "gallon gallons",
    "percent": "percent %", "usd": "usd dollar dollars", "eur": "eur euro euros", "gbp": "gbp sterling",
    "jpy": "jpy yen", "w": "watt watts", "kw": "kw kilowatt kilowatts", "mw": "mw megawatt megawatts",
    "gw": "gw gigawatt gigawatts", "kwh": "kwh kilowatt-hour kilowatt-hours", "mwh": "mwh megawatt-hour megawatt-hours",
    "hz": "hz hertz", "mhz": "mhz megahertz", "ghz": "ghz gigahertz", "volt": "v volt volts", "amp": "amp amps ampere",
    "psi": "psi", "bar": "bar", "mg": "mg milligram milligrams", "ml": "ml milliliter milliliters millilitre",
}
_UNIT = {word: unit for unit, words in _UNIT_GROUPS.items() for word in words.split()}
_ROLES = frozenset({
    "manager", "managers", "employee", "employees", "contractor", "contractors", "intern", "interns", "admin",
    "admins", "administrator", "administrators", "guest", "guests", "owner", "owners", "viewer", "viewers",
    "editor", "editors", "freelancer", "freelancers", "vendor", "vendors", "customer", "customers", "partner",
    "partners", "student", "students", "executive", "executives", "director", "directors", "full-time",
    "part-time", "reviewer", "reviewers", "approver", "approvers", "developer", "developers", "analyst",
    "analysts", "auditor", "auditors", "superuser", "agent", "agents", "supervisor", "supervisors", "engineer",
    "engineers", "lead", "leads", "contributor", "contributors", "visitor", "visitors", "maintainer",
    "maintainers", "president", "hire", "hires", "trainee", "trainees", "consultant", "consultants",
    "member", "members", "associate", "associates", "temp", "temps", "retiree", "retirees", "volunteer",
    "volunteers", "patient", "patients", "tenant", "tenants", "landlord", "landlords", "buyer", "buyers", "seller",
    "sellers", "merchant", "merchants", "subscriber", "subscribers", "cardholder", "cardholders", "policyholder",
    "policyholders", "beneficiary", "beneficiaries", "dependent", "dependents", "spouse", "spouses", "faculty",
    "teacher", "teachers", "nurse", "nurses", "physician", "physicians", "clinician", "clinicians", "cashier",
    "cashiers", "technician", "technicians", "operator", "operators", "moderator", "moderators", "rep", "reps",
    "assignee", "assignees", "requester", "requesters", "shipper", "shippers", "consignee", "consignees",
    "applicant", "applicants", "alumni", "alumnus", "graduate", "graduates", "undergraduate", "undergraduates",
    "senior", "junior", "user", "users", "instructor", "instructors", "borrower", "borrowers", "lender",
    "lenders", "payer", "payee", "sponsor", "sponsors", "delegate", "delegates", "worker", "workers", "client",
    "clients", "advisor", "advisors", "assistant", "assistants", "donor", "donors", "author", "authors",
    "captain", "captains", "secretary", "secretaries", "treasurer", "treasurers", "coach", "coaches", "chair",
    "chairs", "coordinator", "coordinators", "officer", "officers", "pharmacist", "pharmacists", "driver", "drivers",
    "dispatcher", "dispatchers", "courier", "couriers", "pilot", "pilots", "receptionist", "receptionists",
    "housekeeper", "housekeepers", "inspector", "inspectors", "adjuster", "adjusters", "underwriter", "underwriters",
    "broker", "brokers", "recruiter", "recruiters", "candidate", "candidates", "veterinarian", "veterinarians",
    "attorney", "attorneys", "lawyer", "lawyers", "paralegal", "paralegals", "doctor", "doctors", "surgeon",
    "surgeons", "parent", "parents", "guardian", "guardians", "player", "players", "referee", "referees", "teller",
    "tellers", "guarantor", "guarantors", "co-signer", "co-signers", "cosigner", "cosigners", "lessee", "lessees",
    "lessor", "lessors", "franchisee", "franchisees", "supplier", "suppliers", "carrier", "carriers",
    "employer", "employers", "distributor", "distributors", "licensee", "licensees", "licensor", "licensors",
    "holder", "holders", "handler", "handlers", "screener", "screeners", "renter", "renters", "aide", "aides",
    "caregiver", "caregivers", "claimant", "claimants", "insurer", "insurers", "insured", "planner", "planners",
    "attendee", "attendees", "organizer", "organizers", "exhibitor", "exhibitors", "speaker", "speakers",
})
# Words for the same people: "staff members" and "employees", "guests" and "visitors" are one role.
_ROLE_SYNONYMS = {
    "employee": "employee employees staff member members hire hires associate associates worker workers",
    "guest": "guest guests visitor visitors",
    "customer": "customer customers client clients subscriber subscribers",
    "administrator": "admin admins administrator administrators superuser",
    "user": "user users",
    "vendor": "vendor vendors supplier suppliers",
    "applicant": "applicant applicants candidate candidates",
    "lawyer": "lawyer lawyers attorney attorneys",
    "physician": "physician physicians doctor doctors",
    "co-signer": "co-signer co-signers cosigner cosigners",
}
_ROLE_OF = {word: role for role, words in _ROLE_SYNONYMS.items() for word in words.split()}
_LANGUAGES = frozenset({
    "python", "java", "go", "golang", "rust", "haskell", "javascript", "typescript", "kotlin", "scala", "ruby",
    "php", "c#", "c++", "swift", "bash", "powershell", "perl", "elixir", "erlang", "dart", "lua", "clojure",
    "fortran", "cobol", "matlab", "julia", "groovy", "objective-c", "f#", "zig", "nim", "ocaml",
})
# Words that negate without "not" (and negations typed without their apostrophe).
_PRIVATIVE = frozenset({"missing", "lack", "lacks", "lacking", "absent", "prevent", "prevents", "prevented", "unable",
                        "avoid", "avoids", "avoided", "avoiding",
                        "excluding", "except", "cant", "dont", "doesnt", "wont", "isnt", "arent", "didnt", "shouldnt",
                        "wouldnt", "couldnt", "hasnt", "havent"})
# "fails to renew" is "does not renew"; "the renewal failed" is an outcome, compared as an opposite.
_FAIL_TO = re.compile(r"\bfail(?:s|ed|ing)?\s+to\b", re.IGNORECASE)
_NEGATIVE_PREFIXES = ("non", "un", "in", "im", "il", "ir", "dis")
_WORK_TIME = re.compile(r"\b(full|part)[- ]time\b")
# Ordered relations: the content words just before and just after "to", "into", "than", "as", "blocks", … .
_DIRECTION_WORDS = frozenset({"to", "into", "than", "->", "as", "from", "with", "block", "blocks", "precede",
                              "precedes", "owe", "owes", "pay", "pays", "inherit", "inherits", "replicate",
                              "reports", "depend", "depends", "outrank", "outranks", "beat", "beats"})
_WINDOW = 3
# Words that mostly mark English: a text with few of them is taken for another language, where the English word
# lists below would misread it.
# ("a", "do", "i", "in", "on", "me", "an" are words of Portuguese, Italian, German or French too.)
_ENGLISH = frozenset({"the", "to", "of", "for", "is", "are", "how", "what", "does", "my", "our", "can", "and",
                      "with", "from", "which", "who", "when", "where", "why", "should", "we", "you", "it", "this",
                      "that", "be", "at", "by", "or", "there"})

_STOP = _STOPWORDS | {"please", "thanks", "thank", "hi", "hello", "hey", "way", "best", "want", "need", "like"}

# Capitalised words that are not names.
_NOT_NAMES = frozenset({"i", "i'm", "i've", "i'd", "hi", "hello", "hey", "thanks", "thank", "please", "cheers",
                        "good", "quick", "ok", "okay", "sorry", "dear", "regards", "best", "yes", "no"})
_SENTENCE_WORD = re.compile(r"(^|[.!?:;]\s+|\n)?([A-Z][\w&+#.-]*)")

CHECKS = ("number", "identifier", "negation", "direction", "opposite", "date", "unit", "scope", "role", "entity")


def _tokens(text: str) -> list[str]:
    """The verifier's tokens of ``text`` (cached there: a cached question is compared again and again)."""
    return list(analyze(text).tokens)


def _numbers(text: str, tokens: list[str]) -> set[str]:
    found = {n.replace(",", "") for n in _NUMBER_TOKEN.findall(re.sub(_IDENTIFIER, " ", text))}
    found.update(_NUMBER_WORDS[t] for t in tokens if t in _NUMBER_WORDS)
    return found


def _identifiers(text: str) -> set[str]:
    return {m.strip("`").lower() for m in _IDENTIFIER.findall(text) if not _NUMBER_TOKEN.fullmatch(m)}


def _plain(text: str) -> str:
    """``text`` without courtesy phrases, with clock times as "2 pm" and "non-refundable" as one word."""
    text = _ALL_TIME.sub("", _COURTESY.sub(" ", text))
    text = _CLOCK_TIME.sub(lambda m: f"{m.group(1)}{':' + m.group(2) if m.group(2) else ''} {m.group(3).lower()}m",
                           text)
    return _KILO_HOUR.sub(lambda m: m.group(1)[0].lower() + "wh", _NON.sub("non", text))


def _negations(text: str, tokens: list[str]) -> int:
    return analyze(text).negations + sum(t in _PRIVATIVE for t in tokens) + len(_FAIL_TO.findall(text))


def _prefix_negated(a: set[str], b: set[str]) -> bool:
    """A word on one side is the other side's word with a negative prefix: "ineligible" / "eligible"."""
    for x, y in ((a, b), (b, a)):
        for word in x - y:
            for prefix in _NEGATIVE_PREFIXES:
                rest = word[len(prefix):]
                if word.startswith(prefix) and len(rest) >= 4 and rest in y and word not in y:
                    return True
    return False


def _prefix_opposite(word: str, other: set[str]) -> bool:
    """``other`` has ``word`` with the opposite prefix: "overprovisioned" / "underprovisioned"."""
    for x, y in (*_OPPOSITE_PREFIXES, *((y, x) for x, y in _OPPOSITE_PREFIXES)):
        rest = word[len(x):]
        if word.startswith(x) and len(rest) >= 4 and y + rest in other:
            return True
    return False


def _dates(text: str) -> set[str]:
    lowered = text.lower()
    found = {_MONTH_OF.get(t.lower(), t.lower()) for t in _WORD.findall(text) if t.lower() in _DATES
             and t.lower() != "may" and not (t.isupper() and t.lower() in _MONTH_OF)}  # "APR" is a rate, "Apr" April
    found.update(" ".join(m) for m in _RELATIVE.findall(lowered))
    found.update(m + "m" for m in _CLOCK.findall(lowered))
    found.update(m.split()[-1] if m.split()[0] in ("in", "this", "next", "last", "during") else m.split()[0]
                 for m in _SEASON.findall(lowered))
    return found | ({"may"} if _MAY_MONTH.search(lowered) else set())


def _relations(tokens: list[str]) -> list[tuple[str, set[str], set[str]]]:
    """(direction word, words before, words after) each direction word: up to three content words on either side."""
    content = [(i, t) for i, t in enumerate(tokens) if t not in _STOP]
    relations = []
    for i, t in enumerate(tokens):
        if t in _DIRECTION_WORDS:
            before = {w for _, w in [(j, w) for j, w in content if j < i][-_WINDOW:]}
            after = {w for _, w in [(j, w) for j, w in content if j > i][:_WINDOW]}
            if before and after:
                relations.append((t, before, after))
    return relations


def _reversed(a: list[tuple[str, set[str], set[str]]], b: list[tuple[str, set[str], set[str]]]) -> bool:
    """Some relation of one text holds the other way round in the other, around the same word: X to Y against
    Y to X (a clause moved around another "to" is not a reversal)."""
    # A word on both sides of its own relation ("billing reports … billing settings") says nothing of the order.
    return any(wa == wb and ((xa - ya) & (yb - xb)) and ((ya - xa) & (xb - yb)) for wa, xa, ya in a for wb, xb, yb in b)


_COORDINATORS = frozenset({"and", "or", "nor", "&", "plus", "vs", "versus", "/"})
# Prepositions and subordinators: a part that starts with one is a phrase of its own ("in heavy weather").
_PHRASE_STARTS = frozenset({
    "in", "on", "at", "to", "for", "from", "by", "with", "without", "during", "after", "before", "while", "when",
    "if", "unless", "since", "until", "within", "besides", "despite", "per", "via", "across", "among", "between",
    "under", "over", "using", "through", "into", "once", "because", "so", "as", "of", "about", "except", "apart",
})
_SWAP_FORM = {"an": "a"}  # "their SUV for a compact" / "their compact for an SUV"
_SWAPPED_AT_MOST = 6  # tokens per swapped part: names, numbers, roles and products, not clauses
_REACH = 8  # words into the shared part a moved phrase may reach


def _swapped(a: list[str], b: list[str]) -> bool:
    """The same words, with two parts exchanged around words that stay in place: "can Alex message Jordan" /
    "can Jordan message Alex", "a player rated 1500 beating one rated 1800" / "… 1800 … 1500", "the resident's
    report reviewed by the attending" / "the attending's report reviewed by the resident". Parts joined by a
    coordinator only ("iOS and Android") are symmetric, and two adjacent parts exchanged are a clause moved."""
    a, b = [_SWAP_FORM.get(t, t.removesuffix("'s")) for t in a], [_SWAP_FORM.get(t, t.removesuffix("'s")) for t in b]
    if a == b or sorted(a) != sorted(b):
        return False
    start = 0
    while a[start] == b[start]:
        start += 1
    end = len(a)
    while a[end - 1] == b[end - 1]:
        end -= 1
    if _moved(a, b, start, end):
        return False
    core_a, core_b = a[start:end], b[start:end]
    for lx in range(1, _SWAPPED_AT_MOST + 1):
        for ly in range(1, _SWAPPED_AT_MOST + 1):
            if lx + ly >= len(core_a):
                continue
            x, middle, y = core_a[:lx], core_a[lx:len(core_a) - ly], core_a[len(core_a) - ly:]
            if x[0] in _PHRASE_STARTS and y[0] in _PHRASE_STARTS:
                continue  # "during the inspection" / "besides dimensions": phrases moved, not roles swapped
            if core_b == y + middle + x and not set(middle) <= _COORDINATORS:
                return True
    return False


def _moved(a: list[str], b: list[str], start: int, end: int) -> bool:
    """Two adjacent phrases of ``a`` exchanged in ``b`` ("to the Reno warehouse from the Sacramento warehouse" /
    "from the Sacramento warehouse to the Reno warehouse"): the roles travel with their words. The phrases may
    reach a few words into the part both texts share (here the last "warehouse")."""
    for first in range(start, max(-1, start - _REACH - 1), -1):
        for last in range(end, min(len(a), end + _REACH) + 1):
            if any(b[first:last] == a[k:last] + a[first:k] for k in range(first + 1, last)):
                return True
    return False


def _units(tokens: list[str]) -> list[str]:
    return [_UNIT[t] for t in tokens if t in _UNIT]


def _substituted(a: set[str], b: set[str]) -> bool:
    """Each side has something the other lacks (a swap, not an addition)."""
    return bool(a - b) and bool(b - a)


def _names(text: str) -> list[str]:
    """Capitalised words not at the start of a sentence, in order: product, place, team and vendor names."""
    found = []
    for match in _SENTENCE_WORD.finditer(text):
        word = match.group(2).rstrip(".-").lower()
        if match.group(1) is not None or word in _NOT_NAMES or word in _STOP or len(word) < 2:
            continue
        found.append(word)
    return found


def _spelled_out(acronym: str, words: list[str]) -> set[str] | None:
    """The words of ``words`` whose initials spell ``acronym`` in a row ("NYC": New York City), or None."""
    for i in range(len(words) - len(acronym) + 1):
        run = words[i:i + len(acronym)]
        if "".join(w[0] for w in run) == acronym:
            return set(run)
    return None


def _unmatched_names(query: str, candidate: str) -> tuple[set[str], set[str]]:
    """The names only one side has, once acronyms spelled out on the other side are matched up."""
    names_a, names_b = _names(query), _names(candidate)
    only_a, only_b = set(names_a) - set(names_b), set(names_b) - set(names_a)
    for acronyms, words, other in ((only_a, names_b, only_b), (only_b, names_a, only_a)):
        for acronym in list(acronyms):
            if 2 <= len(acronym) <= 6 and (spelled := _spelled_out(acronym, words)) is not None:
                acronyms.discard(acronym)
                other.difference_update(spelled)
    return only_a, only_b


def _singular(word: str) -> str:
    for plural, singular in (("ies", "y"), ("s", "")):
        if word.endswith(plural) and word[:-len(plural)] + singular in _ROLES:
            return word[:-len(plural)] + singular
    return word


def _roles(text: str, words: set[str]) -> set[str]:
    words = {_singular(w.removesuffix("'s").removesuffix("'")) for w in words}  # "a maintainer's", "drivers"
    found = {_ROLE_OF.get(w, w) for w in words & _ROLES} | {m + "-time" for m in _WORK_TIME.findall(text.lower())}
    return found - {"employee"} if found & {"full-time", "part-time"} else found


def _collective(tokens: list[str]) -> int:
    return sum(t in _COLLECTIVE for t in tokens)


def _english(tokens: list[str]) -> bool:
    return sum(t in _ENGLISH for t in tokens) >= max(1, len(tokens) // 6)


def _same_language(a: list[str], b: list[str]) -> bool:
    """Both texts read as English, or they share most of their words (terse English, "List patients whose A1c
    rose since their last draw", has few of the words that mark English; a translation shares few words)."""
    sa, sb = set(a), set(b)
    return (_english(a) and _english(b)) or len(sa & sb) >= 0.5 * len(sa | sb)


def conflict(query: str, candidate: str) -> str | None:
    """The first check on which the two texts disagree (one of ``CHECKS``), or None."""
    query, candidate = _plain(query), _plain(candidate)
    ta, tb = _tokens(query), _tokens(candidate)
    same_language = _same_language(ta, tb)
    # Number words are English ("three" / "trois"): across languages only digits are compared.
    if _numbers(query, ta) != _numbers(candidate, tb) and (
            same_language or _numbers(query, []) != _numbers(candidate, [])):
        return "number"
    if _substituted(_identifiers(query), _identifiers(candidate)):
        return "identifier"
    if not same_language:
        return None  # the word lists below are English: a translation is left to the model
    set_a, set_b = set(ta), set(tb)
    if _negations(query, ta) % 2 != _negations(candidate, tb) % 2 or _prefix_negated(set_a, set_b):
        return "negation"
    if _reversed(_relations(ta), _relations(tb)) or _swapped(ta, tb):
        return "direction"
    for word in set_a - set_b:
        if any(o in set_b and o not in set_a for o in _OPPOSITE.get(word, ())) or _prefix_opposite(word, set_b):
            return "opposite"
    if _dates(query) != _dates(candidate):
        return "date"
    units_a, units_b = _units(ta), _units(tb)
    # A unit swapped ("2 MB files on a 16 GB drive" / "2 GB files …", "per day" / "per week"); one added ("daily")
    # is no swap.
    if units_a != units_b and (len(units_a) == len(units_b) or _substituted(set(units_a), set(units_b))):
        return "unit"
    if _collective(ta) != _collective(tb):  # "all keys in the current database" / "… in every database"
        return "scope"
    roles_a = _roles(query, set_a)
    roles_b = _roles(candidate, set_b)
    if _substituted(roles_a, roles_b):
        return "role"
    if _substituted(set_a & _LANGUAGES, set_b & _LANGUAGES):
        return "identifier"
    only_a, only_b = _unmatched_names(query, candidate)
    if only_a - set_b and only_b - set_a:  # a name swapped for another (one merely lower-cased does not count)
        return "entity"
    return None
