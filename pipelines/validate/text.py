"""Find personal data and spam signals in free text: pure functions from a string to Findings.

Every pattern is compiled once; each text is scanned by a few cheap regular expressions,
and the slower phonenumbers matcher runs only on text that holds a run of digits long
enough to be a phone number. Text that merely looks like markup, code or a template is not
a finding: the site escapes it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher

SHOWN_LIMIT = 40


@dataclass(frozen=True)
class Finding:
    """One match in one text: its code, where it is, and the text matched."""

    code: str
    start: int
    end: int
    text: str
    what: str  # plain words: "an e-mail address"


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

# Seven or more digits, perhaps spaced, dashed or bracketed: the least a phone number has.
_DIGIT_RUN = re.compile(r"\+?\(?\d(?:[\s().-]{0,2}\d){6,}")
# Ofcom reserves these ranges for drama (TV, radio, films, books, and our tests): they are
# not in service, so phonenumbers calls them invalid, yet to a reader they are phone numbers
# and a story holding one must be caught like any other. National significant numbers.
_DRAMA_PREFIXES = (
    "1134960",
    "1144960",
    "1154960",
    "1164960",
    "1174960",
    "1184960",
    "1214960",
    "1314960",
    "1414960",
    "1514960",
    "1614960",
    "1914980",
    "2079460",
    "2896496",
    "2920180",
    "1632960",
    "7700900",
    "8081570",
    "9098790",
    "3069990",
)

# NHS number: ten digits, as 3-3-4 groups or run together, checked with modulus 11 and only
# near a word that says what it is (about one in ten random ten-digit numbers passes the check).
_NHS = re.compile(r"(?<![\d-])(\d{3})([ -]?)(\d{3})\2(\d{4})(?![\d-])")
_NHS_CONTEXT = re.compile(r"\b(?:nhs|number|no\.?|num|patient|hospital|chi|id)\b", re.IGNORECASE)
_NHS_WINDOW = 40

# National Insurance number: two letters (not D, F, I, Q, U, V; not O second; not the
# unused pairs), six digits, a letter A to D. Capitals only, as it is printed.
_NINO = re.compile(
    r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"
)

# A full UK postcode (outward and inward code), in capitals as addresses print it. The
# inward code (digit, two letters without C I K M O V) keeps ordinary words from matching.
_POSTCODE_INWARD = re.compile(r"\d[A-Z][A-Z]\b")
_POSTCODE = re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[ABD-HJLNP-UW-Z]{2}\b")

# A capitalised word after a title (Dr Howard, Mrs Patel) or a role (nurse Anna). Titles are
# matched as written; roles in any case. Each is found with str.find, which is far faster than
# one regular expression with many alternatives over every story.
_TITLES = ("Dr", "Mr", "Mrs", "Ms", "Mx", "Miss", "Prof", "Sr")
_ROLES = (
    "doctor",
    "nurse",
    "sister",
    "matron",
    "midwife",
    "professor",
    "consultant",
    "surgeon",
    "receptionist",
    "paramedic",
    "physio",
    "teacher",
    "social worker",
    "health visitor",
)
_NAME_AFTER = re.compile(r"\.?[ \t]+([A-Z][a-z]+(?:[-'][A-Z][a-z]+)?)\b")
# Capitalised words that follow a title or role and are not names.
_NOT_NAMES = frozenset(
    """
    A An And As At But By For From He Her His I If In It My No Nor Of On Or Our She So That The
    Their Then There They This To We Who Why With You Your When Where What Which While
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May
    June July August September October November December
    Practitioner Practitioners Associate Assistant Assistants Manager Managers Ward Wards Unit
    Team Teams Department Clinic Surgery Station Lead Leads Led Specialist Specialists Nurse
    Nurses Doctor Doctors Sister Sisters Staff Services Service Hospital Practice Home Team
    Registrar Consultant Consultants Midwife Midwives Matron Surgeon Surgeons Teacher Teachers
    Receptionist Receptionists Paramedic Paramedics Worker Workers Visitor Visitors Who Said
    Called Came Told Asked Was Were Had Has Did Gave Took Rang Phoned
    """.split()
)

_LINK = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
# Advertising phrases, each found by its literal first (an `in` test on the lower-cased text)
# and then confirmed by its own expression: one expression with many alternatives tried at
# every position of every story was the slowest check of all.
_ADVERTISING = tuple(
    (literal, re.compile(pattern))
    for literal, pattern in (
        ("buy now", r"\bbuy now\b"),
        ("order now", r"\border now\b"),
        ("call now", r"\bcall now\b"),
        ("click here", r"\bclick here\b"),
        ("promo code", r"\bpromo codes?\b"),
        ("discount code", r"\bdiscount codes?\b"),
        ("code", r"\buse (?:my |the |this |promo |discount )+code\b"),
        ("limited", r"\blimited(?: time)? offers?\b"),
        ("free trial", r"\bfree trials?\b"),
        ("best price", r"\bbest prices?\b"),
        ("cheap", r"\bcheap(?:est)? (?:pills|meds|loans?)\b"),
        ("money", r"\b(?:earn|make) (?:easy |quick )?money\b"),
        ("work from home", r"\bwork from home\b"),
        ("casino", r"\bcasinos?\b"),
        ("viagra", r"\bviagra\b"),
        ("cialis", r"\bcialis\b"),
        ("bitcoin", r"\bbitcoins?\b"),
        ("crypto", r"\bcrypto(?: ?currenc(?:y|ies))?\b"),
        ("forex", r"\bforex\b"),
        ("subscribe now", r"\bsubscribe now\b"),
        ("sign up now", r"\bsign up now\b"),
        ("visit our", r"\bvisit our (?:website|site|shop|store)\b"),
        ("visit my", r"\bvisit my (?:website|site|shop|store)\b"),
    )
)
_SAME_WORD = re.compile(r"\b(\w+)(?:\W+\1\b){5,}", re.IGNORECASE)
# Text whose distinct words are fewer than this share of its words is looked at for repeats.
_REPEAT_RATIO = 0.5
_REPEAT_MIN_WORDS = 6
# Two digits in a row: every phone, NHS and National Insurance number has them, and most story
# text has none, so the slower checks are skipped.
_DIGITS = re.compile(r"\d\d")
_SENTENCE = re.compile(r"[^.!?\n]+")
_WORD = re.compile(r"\w+")
REPEATED_SENTENCE_TIMES = 3
REPEATED_SENTENCE_WORDS = 4


def shown(text: str, limit: int = SHOWN_LIMIT) -> str:
    """A match as it is quoted back: on one line, shortened."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _nhs_checksum_ok(digits: str) -> bool:
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _is_drama(number: phonenumbers.PhoneNumber) -> bool:
    national = str(number.national_number)
    return (
        number.country_code == 44 and len(national) == 10 and national.startswith(_DRAMA_PREFIXES)
    )


def phone_numbers(text: str) -> list[Finding]:
    """Phone numbers, UK and international: valid ones, and Ofcom's drama ranges."""
    if not _DIGIT_RUN.search(text):
        return []
    # POSSIBLE leniency finds the drama numbers that VALID drops; each match is then kept
    # only if it is a valid number or in a drama range, which drops dates and other digits.
    return [
        Finding("phone-number", match.start, match.end, match.raw_string, "a phone number")
        for match in PhoneNumberMatcher(text, "GB", leniency=Leniency.POSSIBLE)
        if phonenumbers.is_valid_number(match.number) or _is_drama(match.number)
    ]


def nhs_numbers(text: str) -> list[Finding]:
    found = []
    for match in _NHS.finditer(text):
        digits = match.group(1) + match.group(3) + match.group(4)
        if not _nhs_checksum_ok(digits):
            continue
        window = text[max(0, match.start() - _NHS_WINDOW) : match.end() + _NHS_WINDOW]
        if _NHS_CONTEXT.search(window):
            found.append(
                Finding("nhs-number", match.start(), match.end(), match.group(), "an NHS number")
            )
    return found


def _word_starts(haystack: str, word: str) -> list[int]:
    """Where word occurs in haystack as a whole word's start."""
    out = []
    index = haystack.find(word)
    while index >= 0:
        if index == 0 or not haystack[index - 1].isalnum():
            out.append(index)
        index = haystack.find(word, index + 1)
    return out


def lower_same_length(text: str) -> str:
    """text.lower(), but keeping every character's position (a few letters, such as the
    Turkish dotted capital I, lower-case to two characters)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def titled_names(text: str, lowered: str | None = None) -> list[Finding]:
    lowered = lower_same_length(text) if lowered is None else lowered
    # `in` first (one C search per word) so that only the titles and roles present are
    # looked for word by word.
    starts = [
        (i, len(title))
        for title in [t for t in _TITLES if t in text]
        for i in _word_starts(text, title)
    ]
    starts += [
        (i, len(role))
        for role in [r for r in _ROLES if r in lowered]
        for i in _word_starts(lowered, role)
    ]
    found = []
    for start, length in sorted(set(starts)):
        match = _NAME_AFTER.match(text, start + length)
        if match and match.group(1) not in _NOT_NAMES:
            found.append(
                Finding(
                    "titled-name",
                    start,
                    match.end(),
                    text[start : match.end()],
                    "a name after a title or role",
                )
            )
    return found


def _matches(pattern: re.Pattern[str], text: str, problem_code: str, what: str) -> list[Finding]:
    return [
        Finding(problem_code, match.start(), match.end(), match.group(), what)
        for match in pattern.finditer(text)
    ]


def _may_hold_digits(text: str) -> bool:
    """False only when text holds no digit at all: for ASCII text, ten `in` tests (each a C
    scan, far cheaper than a regular expression over the text); other text may hold digits of
    other scripts, which \\d matches too."""
    if not text.isascii():
        return True
    return any(digit in text for digit in "0123456789")


def personal_data(text: str, lowered: str | None = None) -> list[Finding]:
    """E-mail addresses, phone numbers, NHS and National Insurance numbers, postcodes, titled names."""
    found = _matches(_EMAIL, text, "email-address", "an e-mail address") if "@" in text else []
    digits = _may_hold_digits(text)
    if digits and _DIGITS.search(text):
        found += phone_numbers(text)
        found += nhs_numbers(text)
        found += _matches(_NINO, text, "national-insurance-number", "a National Insurance number")
    if digits and _POSTCODE_INWARD.search(text):
        found += _matches(_POSTCODE, text, "postcode", "a postcode")
    found += titled_names(text, lowered)
    return sorted(found, key=lambda f: (f.start, f.code))


def repeated_text(text: str, lowered: str | None = None) -> list[Finding]:
    """The same word many times in a row, or a sentence said three times or more."""
    lowered = text.lower() if lowered is None else lowered
    words = lowered.split()
    found = (
        _matches(_SAME_WORD, text, "spam-repeated-text", "the same word over and over")
        if len(words) >= _REPEAT_MIN_WORDS and len(set(words)) < _REPEAT_RATIO * len(words)
        else []
    )
    # str methods and a set first: far cheaper than the sentence expression below, which
    # runs only when some piece of text between full stops occurs at least three times.
    pieces = [
        piece.strip()
        for piece in lowered.replace("!", ".").replace("?", ".").replace("\n", ".").split(".")
        if len(piece) > 12
    ]
    if len(set(pieces)) > len(pieces) - (REPEATED_SENTENCE_TIMES - 1):
        return found
    counts = Counter(" ".join(piece.split()) for piece in pieces)
    if not counts or max(counts.values()) < REPEATED_SENTENCE_TIMES:
        return found
    seen: dict[str, list[re.Match[str]]] = {}
    for sentence in _SENTENCE.finditer(text):
        sentence_words = _WORD.findall(sentence.group().lower())
        if len(sentence_words) >= REPEATED_SENTENCE_WORDS:
            seen.setdefault(" ".join(sentence_words), []).append(sentence)
    for matches in seen.values():
        if len(matches) >= REPEATED_SENTENCE_TIMES:
            third = matches[REPEATED_SENTENCE_TIMES - 1]
            found.append(
                Finding(
                    "spam-repeated-text",
                    third.start(),
                    third.end(),
                    third.group().strip(),
                    f"a sentence written {len(matches)} times",
                )
            )
    return found


def spam_signals(text: str, lowered: str | None = None) -> list[Finding]:
    """Links, repeated text and advertising phrases: warnings for a moderator."""
    lowered = lower_same_length(text) if lowered is None else lowered
    found = (
        _matches(_LINK, text, "spam-link", "a web link")
        if "http" in lowered or "www." in lowered
        else []
    )
    found += repeated_text(text, lowered)
    for literal, pattern in _ADVERTISING:
        if literal in lowered:
            found += [
                Finding(
                    "spam-advertising",
                    match.start(),
                    match.end(),
                    text[match.start() : match.end()],
                    "an advertising phrase",
                )
                for match in pattern.finditer(lowered)
            ]
    return sorted(found, key=lambda f: (f.start, f.code))


def line_in_value(key_line: int, value: str, offset: int) -> int:
    """The file line of a character of a value that starts on key_line.

    A value holding line breaks was written as a block (story: |), whose text starts on the
    line after its key, one file line per line of text. A folded block (>) joins lines, so
    there the line is the paragraph's first.
    """
    if "\n" not in value:
        return key_line
    return key_line + 1 + value.count("\n", 0, offset)


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def word_count(text: str) -> int:
    return len(text.split())
