"""Deterministic, lazily generated data for the demo lemlist API.

Conversation ``i`` is a pure function of ``(seed, i)``: nothing is generated up front, so a
100,000-conversation inbox costs no more to create than a ten-conversation one. Ids carry their
index (through a keyed permutation, so they still look random), which lets the server find a
conversation from its ``ibx_``/``ctc_`` id without any table.

The text pools are fictional: every domain ends in ``.example`` or ``.test``.
"""

# Names and subjects hold look-alike letters (dotless i, the times sign) on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import functools
import hashlib
import html
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

JsonObject = dict[str, Any]

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 17

TEAM_NAME = "Acme Sales"
TEAM_DOMAIN = "acme-sales.example"
TRACKING_HOST = "https://track.lemlist.example/p/"

# Base conversation i ends at anchor - LEAD - i*STEP - jitter(i), jitter < STEP - 5 min, so
# consecutive conversations are 5..11 minutes apart and the order is strictly by index.
_LEAD_MS = 45_000
_STEP_MS = 8 * 60_000
_JITTER_MS = 3 * 60_000
_MINUTE = 60_000
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# -- time -------------------------------------------------------------------------------------


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime, without float rounding."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def iso_ms(ms: int) -> str:
    """The API's timestamp format: ``2024-12-17T09:42:32.971Z``."""
    return f"{from_ms(ms):%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def js_date(epoch_seconds: int) -> str:
    """JavaScript's ``Date.prototype.toString()`` in UTC, as ``X-RateLimit-Reset`` carries it."""
    moment = _EPOCH + timedelta(seconds=epoch_seconds)
    return (
        f"{_DAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:02d} {moment.year} "
        f"{moment:%H:%M:%S} GMT+0000 (Coordinated Universal Time)"
    )


def _mail_date(ms: int) -> str:
    """``Tue, Mar 4, 2025 at 10:12 AM``, as mail clients quote it (locale-independent)."""
    moment = from_ms(ms)
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return (
        f"{_DAYS[moment.weekday()]}, {_MONTHS[moment.month - 1]} {moment.day}, {moment.year} "
        f"at {hour}:{moment.minute:02d} {half}"
    )


# -- ids --------------------------------------------------------------------------------------

_M64 = (1 << 64) - 1
_HALF_BITS = 21
_HALF_MASK = (1 << _HALF_BITS) - 1
_PAYLOAD_DIGITS = 7
_PAYLOAD_SPACE = 62**_PAYLOAD_DIGITS  # < 2**42: a 42-bit permutation cycle-walks into it
_PAYLOAD_SLOTS = (1, 4, 6, 9, 11, 14, 16)
_FILLER_SLOTS = tuple(p for p in range(ID_LENGTH) if p not in _PAYLOAD_SLOTS)


def _mix64(value: int) -> int:
    """splitmix64's finaliser: a cheap, well-spread 64-bit hash."""
    value = (value + 0x9E3779B97F4A7C15) & _M64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _M64
    return value ^ (value >> 31)


def _stable_hash(text: str) -> int:
    # Python's hash() of a str changes per process; ids must not.
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def random_id(prefix: str, rng: random.Random) -> str:
    return f"{prefix}_{''.join(rng.choices(BASE62, k=ID_LENGTH))}"


class IndexedIds:
    """Random-looking ids that decode back to the index they were made from.

    Seven of the 17 characters are a keyed Feistel permutation of the index (so neighbours
    look unrelated); the other ten are a keyed hash, which doubles as a checksum on decode.
    """

    def __init__(self, prefix: str, seed: int) -> None:
        self.prefix = prefix
        base = _stable_hash(f"{prefix}:{seed}")
        self._round_keys = tuple(_mix64(base + r) for r in range(4))
        self._filler_key = _mix64(base ^ 0x5DEECE66D)

    def _round(self, half: int, r: int) -> int:
        return _mix64(half ^ self._round_keys[r]) & _HALF_MASK

    def _encrypt(self, value: int) -> int:
        left, right = value >> _HALF_BITS, value & _HALF_MASK
        for r in range(4):
            left, right = right, left ^ self._round(right, r)
        return (left << _HALF_BITS) | right

    def _decrypt(self, value: int) -> int:
        left, right = value >> _HALF_BITS, value & _HALF_MASK
        for r in reversed(range(4)):
            left, right = right ^ self._round(left, r), left
        return (left << _HALF_BITS) | right

    def encode(self, index: int) -> str:
        payload = self._encrypt(index)
        while payload >= _PAYLOAD_SPACE:  # cycle walking keeps it a permutation of the space
            payload = self._encrypt(payload)
        chars = [""] * ID_LENGTH
        for slot in reversed(_PAYLOAD_SLOTS):
            payload, digit = divmod(payload, 62)
            chars[slot] = BASE62[digit]
        state = self._filler_key ^ index
        for slot in _FILLER_SLOTS:
            state = _mix64(state)
            chars[slot] = BASE62[state % 62]
        return f"{self.prefix}_{''.join(chars)}"

    def decode(self, identifier: str) -> int | None:
        """The index ``identifier`` was made from, or None if no index makes it."""
        head, _, body = identifier.partition("_")
        if head != self.prefix or len(body) != ID_LENGTH:
            return None
        payload = 0
        for slot in _PAYLOAD_SLOTS:
            digit = BASE62.find(body[slot])
            if digit < 0:
                return None
            payload = payload * 62 + digit
        index = self._decrypt(payload)
        while index >= _PAYLOAD_SPACE:
            index = self._decrypt(index)
        return index if self.encode(index) == identifier else None


# -- text pools -------------------------------------------------------------------------------

_TRANSLIT = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "đ": "d",
     "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "ı": "i", "œ": "oe"}
)  # fmt: skip


def ascii_fold(text: str) -> str:
    """``Łukasz Wiśniewski`` -> ``lukaszwisniewski``: what an email address is made of."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return "".join(c for c in decomposed.lower() if c.isascii() and c.isalnum())


@dataclass(frozen=True, slots=True)
class PersonName:
    first: str
    full: str
    first_ascii: str
    last_ascii: str


def _split(token: str) -> tuple[str, str]:
    """``"王:wang"`` -> (``王``, ``wang``); plain tokens fold themselves."""
    shown, _, romanised = token.partition(":")
    return shown, romanised or ascii_fold(shown)


# (given names, family names, order): "western" = given family, "eastern" = family given,
# "joined" = family+given without a space (Chinese, Korean).
_NAME_GROUPS: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
    (("Renée", "Étienne", "Chloé", "Théo", "Léa", "Aurélien", "Inès"),
     ("Dubois", "Lefèvre", "Moreau", "Girard", "Fournier", "Lambert"), "western"),
    (("Siobhán", "Ciarán", "Aoife", "Seán", "Renée"),
     ("O'Connor", "Murphy", "Kavanagh", "O'Sullivan", "Byrne"), "western"),
    (("José", "María", "Lucía", "Javier", "Ana Belén", "Íñigo"),
     ("Núñez", "García", "Fernández", "Peña", "Ibáñez", "Muñoz"), "western"),
    (("João", "Conceição", "Thiago", "Luísa"),
     ("Gonçalves", "Araújo", "Magalhães", "Simões"), "western"),
    (("Søren", "Zoë", "Åsa", "Björn", "Linnéa", "Øystein"),
     ("Ångström", "Kierkegaard", "Lindqvist", "Sørensen", "Håkansson", "Järvinen"), "western"),
    (("Łukasz", "Zbigniew", "Wojciech", "Jiří", "Tomáš"),
     ("Wiśniewski", "Wójcik", "Kowalczyk", "Dvořák", "Nowak"), "western"),
    (("Ayşe", "Mehmet", "Elif", "Çağrı", "Gülşen", "Oğuz"),
     ("Yılmaz", "Şahin", "Öztürk", "Çelik", "Doğan"), "western"),
    (("Minh", "Lan", "Hùng", "Thảo", "Dũng"),
     ("Nguyễn Thị", "Trần Văn", "Lê", "Phạm", "Hoàng"), "eastern"),
    (("芳:fang", "伟:wei", "静:jing", "磊:lei", "婷:ting"),
     ("王:wang", "李:li", "张:zhang", "刘:liu", "陈:chen"), "joined"),
    (("민준:minjun", "서연:seoyeon", "지우:jiwoo"),
     ("김:kim", "박:park", "최:choi"), "joined"),
    (("Yūki", "Haruto", "Sakura", "Ren", "Aoi"),
     ("Satō", "Tanaka", "Kobayashi", "Yamamoto", "Itō"), "western"),
    (("Priyanka", "Arjun", "Ananya", "Rohan", "Deepika", "Vikram"),
     ("Sharma", "Iyer", "Chatterjee", "Reddy", "Patel", "Nair"), "western"),
    (("Chiamaka", "Oluwaseun", "Kwabena", "Ngozi", "Tunde"),
     ("Okafor", "Adeyemi", "Mensah", "Eze", "Boateng"), "western"),
    (("Jürgen", "Käthe", "Lukas", "Anneliese", "Maximilian"),
     ("Müller", "Größer", "Schäfer", "Weiß", "Becker"), "western"),
    (("Layla", "Omar", "Youssef", "Fatima", "Karim"),
     ("Haddad", "Al-Farsi", "Benali", "Mansour"), "western"),
    (("Jordan", "Taylor", "Morgan", "Casey", "Alex", "Emily", "Michael"),
     ("Smith", "Johnson", "Williams", "Brown", "Davis", "Miller"), "western"),
    (("Sanne", "Joost", "Maarten", "Femke"),
     ("van der Berg", "de Vries", "Jansen", "van Dijk"), "western"),
)  # fmt: skip

# Names worth seeing as they are (first, full, first_ascii, last_ascii).
_NOTABLE_NAMES: tuple[PersonName, ...] = (
    PersonName("Zoë", "Zoë Ångström", "zoe", "angstrom"),
    PersonName("José", "José Núñez", "jose", "nunez"),
    PersonName("Łukasz", "Łukasz Wiśniewski", "lukasz", "wisniewski"),
    PersonName("芳", "王芳", "fang", "wang"),
    PersonName("Minh", "Nguyễn Thị Minh", "minh", "nguyen"),
    PersonName("Ayşe", "Ayşe Yılmaz", "ayse", "yilmaz"),
    PersonName("Søren", "Søren Kierkegaard", "soren", "kierkegaard"),
    PersonName("Renée", "Renée O'Connor", "renee", "oconnor"),
    PersonName("Анна", "Анна Смирнова", "anna", "smirnova"),
    PersonName("Björk", "Björk Guðmundsdóttir", "bjork", "gudmundsdottir"),
    PersonName("Françoise", "Françoise Lefèvre-Duval", "francoise", "lefevreduval"),
    PersonName("Mary-Kate", "Mary-Kate O'Brien-Smith", "marykate", "obriensmith"),
)

_COMPANIES: tuple[tuple[str, str], ...] = (
    ("Northwind Traders", "northwind.example"),
    ("Globex Corporation", "globex.example"),
    ("Initech", "initech.test"),
    ("Umbrella Analytics", "umbrella-analytics.example"),
    ("Vandelay Industries", "vandelay.example"),
    ("Hooli", "hooli.test"),
    ("Soylent Foods", "soylent.example"),
    ("Wonka Confections", "wonka.example"),
    ("Tyrell Systems", "tyrell.example"),
    ("Cyberdyne Robotics", "cyberdyne.test"),
    ("Müller & Söhne GmbH", "mueller-soehne.example"),
    ("Ångström Optics AB", "angstrom-optics.example"),
    ("Société Lumière SAS", "societe-lumiere.example"),
    ("Zürich Precision AG", "zuerich-precision.test"),
    ("Nakamura Kōgyō", "nakamura-kogyo.example"),
    ("Café Olé Roasters", "cafe-ole.example"),
    ("Blue Fjord Shipping", "bluefjord.example"),
    ("Sakura Fintech", "sakura-fintech.example"),
    ("Lagos Cloud Ltd", "lagoscloud.example"),
    ("Bangalore Data Labs", "blr-datalabs.example"),
    ("Hanoi Textiles", "hanoi-textiles.test"),
    ("İstanbul Mobilya", "istanbul-mobilya.example"),
    ("Kraków Software House", "krakow-software.example"),
    ("São Paulo Agritech", "sp-agritech.example"),
    ("Nordlys Energy", "nordlys.test"),
    ("Stark & Wayne Logistics", "stark-wayne.example"),
)

# (first, last, role, mailbox provider) of the team; more users than this repeat with a number.
_TEAM: tuple[tuple[str, str, str, str], ...] = (
    ("Camille", "Martin", "admin", "google"),
    ("Jonas", "Becker", "user", "microsoft"),
    ("Priya", "Raman", "user", "google"),
    ("Diego", "Álvarez", "user", "smtp"),
    ("Aiko", "Tanaka", "admin", "google"),
    ("Malik", "Johnson", "user", "microsoft"),
    ("Sofia", "Rossi", "user", "google"),
    ("Liam", "O'Brien", "user", "google"),
)

# Probability that a conversation is unread, per team member (cycled).
_UNREAD_RATE = (0.25, 0.40, 0.12, 0.30, 0.18)

_CHANNEL_PROFILES: tuple[tuple[tuple[str, ...], int], ...] = (
    (("email",), 68),
    (("email", "linkedin"), 12),
    (("linkedin",), 10),
    (("email", "whatsapp"), 4),
    (("email", "sms"), 3),
    (("email", "call"), 3),
)

_LABELS: tuple[tuple[str, str], ...] = (
    ("Interested", "#22C55E"),
    ("Meeting booked", "#3B82F6"),
    ("Follow up", "#F59E0B"),
    ("Not now", "#A855F7"),
    ("Wrong person", "#EF4444"),
    ("VIP ⭐", "#EAB308"),
)

_OPPORTUNITY_TYPES = ("interested", "meeting_booked", "meeting_done", "deal_won", "deal_lost")

_CAMPAIGNS = 7

_SUBJECTS = (
    "Quick question about {company}",
    "{first}, an idea for {company}",
    "{company} × Acme Sales",
    "Cutting ramp-up time at {company}",
    "Worth a 15-minute chat?",
    "Intro: Acme Sales → {company}",
    "Your outbound at {company}",
)

_HOOKS = (
    "hiring three SDRs this quarter",
    "expanding into the DACH market",
    "rolling out a new pricing page",
    "opening an office in Lisbon",
    "moving pipeline reviews off spreadsheets",
    "launching a partner programme",
)

_VALUES = (
    "book 30% more meetings without adding headcount",
    "cut ramp-up time for new reps in half",
    "keep every follow-up on time across email &amp; LinkedIn",
    "turn cold lists into warm conversations",
)

_PROOFS = (
    "Globex saw a 2&times; reply rate in six weeks",
    "Initech&rsquo;s team books 40 demos a month with it",
    "Soylent Foods replaced three tools with it",
    "the team at Hooli calls it their secret weapon",
)

_FOLLOW_UPS = (
    "<p>Just bumping this to the top of your inbox in case it got buried.</p>"
    "<p>Is improving outbound a priority for {company} this quarter?</p>",
    "<p>I know things get busy&nbsp;&mdash; would a short call next week make sense?</p>",
    "<p>Should I close your file? If the timing is off, no worries at all &mdash; "
    "just let me know and I&rsquo;ll stop following up.</p>",
    "<p>Thought this case study might be useful: "
    '<a href="https://acme-sales.example/stories/globex">how Globex doubled replies</a>.</p>',
)

_INBOUND_REPLIES = (
    "Thanks {sender_first}, this looks interesting. Can you send over pricing?",
    "Not the right time for us&nbsp;&mdash; maybe reach out next quarter.",
    "Sure, Thursday at 3pm CET works. Send an invite to this address.",
    "Please remove me from your list.",
    "I&rsquo;m out of the office until Monday with limited access to email.",
    "Merci pour votre message&nbsp;! Je suis int&eacute;ress&eacute;e, on en parle mardi&nbsp;?",
    "Hallo, danke f&uuml;r die Nachricht. Wir nutzen bereits ein anderes Tool.",
    "Who else at {company} have you spoken to?",
    "Let me loop in my colleague who owns this &mdash; cc&rsquo;d.",
    "¡Gracias! Suena bien 👍 ¿Tienes una demo grabada?",
    "We&rsquo;re reviewing vendors in Q3. Can you share a r&eacute;sum&eacute; of the "
    "security features?",
    "Interesting timing — we were just talking about this. What does onboarding look like?",
)

_ANSWERS = (
    "<p>Great, thanks {first}! I&rsquo;ve sent an invite for Thursday.</p>",
    "<p>Totally understand &mdash; I&rsquo;ll check back in a few months.</p>",
    '<p>Here is the pricing sheet: <a href="https://acme-sales.example/pricing?ref={ref}">'
    "pricing &amp; plans</a>.</p><p>Happy to walk you through it.</p>",
    "<p>Done, you won&rsquo;t hear from me again. Sorry for the noise!</p>",
    "<p>Good question: onboarding takes about a week, and we do the heavy lifting.</p>",
)

_SHORT_OUTBOUND = (
    "Hi {first}, saw your post about {hook} &mdash; would love to connect and swap notes.",
    "Hi {first}! Quick one: how is {company} handling outbound today?",
    "Thanks for connecting, {first}. Open to a short chat next week?",
)

_SHORT_INBOUND = (
    "Thanks for reaching out! Happy to connect.",
    "Sounds good, send me a few slots 🙂",
    "Not interested, thanks.",
    "Can you email me instead? It&rsquo;s easier to track.",
)

_CALL_NOTES = (
    "Call with {first}: left a voicemail, will try again Thursday.",
    "Call with {first}: 12 min, interested, wants a demo with their CTO.",
    "Call with {first}: no answer.",
)

_STYLE_BLOCK = (
    "<style>p{margin:0 0 12px;line-height:1.5}a{color:#316fea}"
    ".sig{color:#888;font-size:12px}</style>"
)


# -- model ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeamMember:
    id: str
    first: str
    last: str
    email: str
    role: str
    mailbox_id: str
    provider: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass(frozen=True, slots=True)
class Label:
    id: str
    name: str
    color: str
    created_at: int
    created_by: str  # the creator's email, as the API documents it


@dataclass(frozen=True, slots=True)
class Contact:
    id: str
    first_name: str
    full_name: str | None
    email: str
    company: str
    lead_id: str


@dataclass(frozen=True, slots=True)
class Opportunity:
    id: str
    type: str
    done: bool


@dataclass(frozen=True, slots=True)
class Step:
    """One message of a thread, without its text (texts are only made for the thread route)."""

    id: str
    inbound: bool
    channel: str
    at: int


@dataclass(frozen=True, slots=True)
class Conversation:
    index: int
    id: str
    contact: Contact
    sender: int  # index of the team member the campaign sends as
    campaign_id: str
    subject: str
    steps: tuple[Step, ...]
    read: tuple[bool, ...]  # per team member, before any overlay
    opportunities: tuple[Opportunity, ...]
    labels: tuple[str, ...]

    @property
    def created_at(self) -> int:
        return self.steps[0].at

    @property
    def last_activity(self) -> int:
        return self.steps[-1].at

    @property
    def last_reply(self) -> Step | None:
        return next((s for s in reversed(self.steps) if s.inbound), None)

    @property
    def channels(self) -> list[str]:
        return list(dict.fromkeys(s.channel for s in self.steps))


# -- generator --------------------------------------------------------------------------------


def _weighted(
    rng: random.Random, options: Sequence[tuple[tuple[str, ...], int]]
) -> tuple[str, ...]:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _pick_name(rng: random.Random) -> PersonName:
    if rng.random() < 0.08:
        return rng.choice(_NOTABLE_NAMES)
    givens, families, order = rng.choice(_NAME_GROUPS)
    given, given_ascii = _split(rng.choice(givens))
    family, family_ascii = _split(rng.choice(families))
    full = {
        "western": f"{given} {family}",
        "eastern": f"{family} {given}",
        "joined": f"{family}{given}",
    }[order]
    return PersonName(given, full, given_ascii, family_ascii)


def _email_local(rng: random.Random, name: PersonName) -> str:
    first, last = name.first_ascii, name.last_ascii
    return rng.choice(
        (f"{first}.{last}", f"{first}.{last}", first, f"{first[0]}{last}", f"{first}_{last}")
    )


def _gap_before(rng: random.Random, step_inbound: bool, previous_inbound: bool) -> int:
    """Milliseconds between a message and the one before it, by who wrote each."""
    if step_inbound:  # a lead answering: minutes to a day and a half
        return rng.randint(3 * _MINUTE, 36 * _HOUR)
    if previous_inbound:  # the rep answering a reply: within working hours
        return rng.randint(5 * _MINUTE, 6 * _HOUR)
    return rng.randint(2 * _DAY, 5 * _DAY)  # a sequence follow-up


class DemoData:
    """Everything the demo serves that does not change: the team and every conversation."""

    def __init__(self, *, seed: int, users: int, anchor_ms: int) -> None:
        if users < 1:
            raise ValueError("a demo team needs at least one user")
        self.seed = seed
        self.anchor_ms = anchor_ms
        rng = random.Random(f"{seed}:team")
        self.team_id = random_id("tea", rng)
        self.members = [self._member(rng, k) for k in range(users)]
        self.team_created_at = anchor_ms - 731 * _DAY + rng.randrange(_DAY)
        self.campaign_ids = [random_id("cam", rng) for _ in range(_CAMPAIGNS)]
        self.labels = [
            Label(
                random_id("lbl", rng),
                name,
                color,
                self.team_created_at + (k + 1) * 17 * _DAY + rng.randrange(_DAY),
                self.members[0].email,
            )
            for k, (name, color) in enumerate(_LABELS)
        ]
        self.label_ids = frozenset(label.id for label in self.labels)
        self.conversation_ids = IndexedIds("ibx", seed)
        self.contact_ids = IndexedIds("ctc", seed)
        # A crawl reads each conversation once, a refresh re-reads the top few pages.
        self._cached = functools.lru_cache(maxsize=4096)(self._build)

    @staticmethod
    def _member(rng: random.Random, k: int) -> TeamMember:
        first, last, role, provider = _TEAM[k % len(_TEAM)]
        lap = k // len(_TEAM)
        suffix = str(lap + 1) if lap else ""
        return TeamMember(
            id=random_id("usr", rng),
            first=first,
            last=f"{last} {suffix}".strip(),
            email=f"{ascii_fold(first)}{suffix}@{TEAM_DOMAIN}",
            role=role,
            mailbox_id=random_id("mbx", rng),
            provider=provider,
        )

    def base_last_activity(self, index: int, jitter: int) -> int:
        return self.anchor_ms - _LEAD_MS - index * _STEP_MS - jitter

    def conversation(self, index: int, last_activity: int | None = None) -> Conversation:
        """Conversation ``index``; ``last_activity`` re-anchors one made after start-up."""
        return self._cached(index, last_activity)

    def _build(self, index: int, last_activity: int | None) -> Conversation:
        rng = random.Random(f"{self.seed}:conversation:{index}")
        jitter = rng.randrange(_JITTER_MS)
        end = self.base_last_activity(index, jitter) if last_activity is None else last_activity

        name = _pick_name(rng)
        company, domain = rng.choice(_COMPANIES)
        contact = Contact(
            id=self.contact_ids.encode(index),
            first_name=name.first,
            full_name=name.full if rng.random() >= 0.15 else None,
            email=f"{_email_local(rng, name)}@{domain}",
            company=company,
            lead_id=random_id("lea", rng),
        )

        profile = _weighted(rng, _CHANNEL_PROFILES)
        replied = rng.random() < 0.6
        count = rng.randint(2, 8) if replied else rng.choice((1, 1, 2, 2, 3, 3, 4))
        inbound = [replied and k % 2 == 1 for k in range(count)]
        channels: list[str] = []
        for k in range(count):
            if inbound[k]:  # a lead answers where they were written to; nobody answers a call
                channels.append("email" if channels[k - 1] == "call" else channels[k - 1])
            else:
                channels.append(profile[0] if k == 0 else rng.choice(profile))
        times = [end] * count
        for k in range(count - 1, 0, -1):
            times[k - 1] = times[k] - _gap_before(rng, inbound[k], inbound[k - 1])
        steps = tuple(
            Step(random_id("act", rng), inbound[k], channels[k], times[k]) for k in range(count)
        )

        read = tuple(
            rng.random() >= _UNREAD_RATE[u % len(_UNREAD_RATE)] for u in range(len(self.members))
        )
        opportunities: tuple[Opportunity, ...] = ()
        if rng.random() < 0.10:
            opportunities = tuple(
                Opportunity(
                    random_id("opp", rng), rng.choice(_OPPORTUNITY_TYPES), rng.random() < 0.4
                )
                for _ in range(rng.choice((1, 1, 2)))
            )
        labels = (rng.choice(self.labels[:4]).id,) if rng.random() < 0.08 else ()
        subject = rng.choice(_SUBJECTS).format(company=company, first=name.first)
        return Conversation(
            index=index,
            id=self.conversation_ids.encode(index),
            contact=contact,
            sender=rng.randrange(len(self.members)),
            campaign_id=rng.choice(self.campaign_ids),
            subject=subject,
            steps=steps,
            read=read,
            opportunities=opportunities,
            labels=labels,
        )

    def extra_reply(self, conversation: Conversation, at: int) -> Step:
        """A new inbound message (see ``touch``), answering on the thread's last channel."""
        rng = random.Random(f"{self.seed}:reply:{conversation.index}:{len(conversation.steps)}")
        last = conversation.steps[-1].channel
        return Step(random_id("act", rng), True, "email" if last == "call" else last, at)

    # -- JSON ---------------------------------------------------------------------------------

    def team_json(self, *, with_users: bool) -> JsonObject:
        body: JsonObject = {
            "_id": self.team_id,
            "name": TEAM_NAME,
            "userIds": [m.id for m in self.members],
            "createdBy": self.members[0].id,
            "createdAt": iso_ms(self.team_created_at),
            "hooks": [],
            "beta": [],
            "invitedUsers": [],
        }
        if with_users:
            body["users"] = [
                {"userId": m.id, "name": m.name, "email": m.email, "role": m.role}
                for m in self.members
            ]
        return body

    def user_json(self, member: TeamMember) -> JsonObject:
        # The real route has no name: clients name users from /team?version=v2 or the email.
        return {
            "_id": member.id,
            "email": member.email,
            "role": member.role,
            "linkedIn": {},
            "mailboxes": [
                {
                    "_id": member.mailbox_id,
                    "email": member.email,
                    "provider": member.provider,
                    "status": "connected",
                }
            ],
        }

    def labels_json(self) -> list[JsonObject]:
        return [
            {
                "_id": label.id,
                "name": label.name,
                "color": label.color,
                "createdAt": iso_ms(label.created_at),
                "createdBy": label.created_by,
            }
            for label in self.labels
        ]

    def conversation_json(
        self, conversation: Conversation, read: Sequence[bool], labels: Sequence[str]
    ) -> JsonObject:
        contact: JsonObject = {"_id": conversation.contact.id}
        if conversation.contact.full_name is not None:
            contact["fullName"] = conversation.contact.full_name
        contact["email"] = conversation.contact.email
        body: JsonObject = {
            "_id": conversation.id,
            "opportunities": [
                {"id": o.id, "type": o.type, "done": o.done} for o in conversation.opportunities
            ],
            "lastActivityAt": iso_ms(conversation.last_activity),
            "createdBy": conversation.steps[0].id,
            "channels": conversation.channels,
            "teamId": self.team_id,
            "contactId": conversation.contact.id,
            "users": [
                {"userId": m.id, "sender": k == conversation.sender, "read": read[k]}
                for k, m in enumerate(self.members)
            ],
            "createdAt": iso_ms(conversation.created_at),
            "haveReplies": conversation.last_reply is not None,
        }
        reply = conversation.last_reply
        if reply is not None:
            body["lastRepliedAt"] = iso_ms(reply.at)
            body["lastRepliedChannel"] = reply.channel
        body["contact"] = contact
        if labels:
            body["labels"] = list(labels)
        return body

    def thread_json(self, conversation: Conversation) -> list[JsonObject]:
        """The conversation's activities, oldest first, with their HTML bodies."""
        return _ThreadWriter(self, conversation).write()


_ACTIVITY_TYPES = {
    ("email", False): "emailsSent",
    ("email", True): "emailsReplied",
    ("linkedin", False): "linkedinSent",
    ("linkedin", True): "linkedinReplied",
    ("whatsapp", False): "whatsappSent",
    ("whatsapp", True): "whatsappReplied",
    ("sms", False): "smsSent",
    ("sms", True): "smsReplied",
    ("call", False): "aircallDone",
}


class _ThreadWriter:
    """Writes a thread's message bodies; texts depend only on (seed, index, position)."""

    def __init__(self, data: DemoData, conversation: Conversation) -> None:
        self.data = data
        self.conversation = conversation
        self.member = data.members[conversation.sender]
        self.rng = random.Random(f"{data.seed}:thread:{conversation.index}")
        contact = conversation.contact
        greeting = contact.first_name if contact.full_name is not None else "there"
        self.fields = {
            "first": html.escape(greeting),
            "company": html.escape(contact.company),
            "sender_first": html.escape(self.member.first),
            "hook": self.rng.choice(_HOOKS),
        }

    def write(self) -> list[JsonObject]:
        activities: list[JsonObject] = []
        previous: tuple[Step, str] | None = None  # a message and its own text, for quoting
        email_seen = False
        for step in self.conversation.steps:
            own = self._own_text(step, previous[0] if previous else None)
            message = own
            if step.channel == "email":
                if previous is not None and (step.inbound or previous[0].inbound):
                    message = own + self._quote(*previous)
                if not step.inbound:
                    message = self._outbound_frame(message)
                subject = (
                    f"Re: {self.conversation.subject}" if email_seen else self.conversation.subject
                )
                email_seen = True
            else:
                subject = ""
            activities.append(self._activity(step, subject, message))
            previous = (step, own)
        return activities

    def _own_text(self, step: Step, previous: Step | None) -> str:
        rng, fields = self.rng, self.fields
        if step.channel == "call":
            return f"<p>{rng.choice(_CALL_NOTES).format(**fields)}</p>"
        if step.channel != "email":
            pool = _SHORT_INBOUND if step.inbound else _SHORT_OUTBOUND
            return f"<p>{rng.choice(pool).format(**fields)}</p>"
        if step.inbound:
            return f'<div dir="ltr">{rng.choice(_INBOUND_REPLIES).format(**fields)}</div>'
        if previous is not None and previous.inbound:
            body = rng.choice(_ANSWERS).format(ref=f"{rng.getrandbits(32):08x}", **fields)
        elif previous is not None:
            body = rng.choice(_FOLLOW_UPS).format(**fields)
        else:
            body = (
                f"<p>I noticed {fields['company']} is {fields['hook']}. We help teams like "
                f"yours {rng.choice(_VALUES)}&nbsp;&mdash; {rng.choice(_PROOFS)}.</p>"
                "<p>Would it make sense to chat for 15 minutes next week? Here&rsquo;s my "
                f'calendar: <a href="https://cal.acme-sales.example/{ascii_fold(self.member.first)}'
                '/15min">book a slot</a>.</p>'
            )
        return (
            f"<div><p>Hi {fields['first']},</p>{body}<p>Best,<br>"
            f"{html.escape(self.member.name)}<br>"
            f'<span class="sig">Account Executive &middot; {TEAM_NAME}</span></p></div>'
        )

    def _quote(self, step: Step, text: str) -> str:
        if step.inbound:
            who = self.conversation.contact.full_name or self.conversation.contact.email
            address = self.conversation.contact.email
        else:
            who, address = self.member.name, self.member.email
        return (
            '<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
            f"On {_mail_date(step.at)}, {html.escape(who)} &lt;{address}&gt; wrote:<br></div>"
            '<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid;'
            f'padding-left:1ex">{text}</blockquote></div>'
        )

    def _outbound_frame(self, message: str) -> str:
        style = _STYLE_BLOCK if self.rng.random() < 0.25 else ""
        pixel = (
            f'<img src="{TRACKING_HOST}{self.rng.getrandbits(96):024x}" width="1" height="1" '
            'alt="" style="display:none">'
        )
        return f"{style}{message}{pixel}"

    def _activity(self, step: Step, subject: str, message: str) -> JsonObject:
        contact = self.conversation.contact
        domain = contact.email.partition("@")[2] if step.inbound else TEAM_DOMAIN
        return {
            "_id": step.id,
            "type": _ACTIVITY_TYPES[(step.channel, step.inbound)],
            "createdAt": iso_ms(step.at),
            "subject": subject,
            "message": message,
            "sendUserId": self.member.id,
            "sendUserName": self.member.name,
            "sendUserEmail": self.member.email,
            "leadEmail": contact.email,
            "contactId": contact.id,
            "leadId": contact.lead_id,
            "campaignId": self.conversation.campaign_id,
            "cc": [],
            "attachments": [],
            "messageId": f"<{self.rng.getrandbits(80):020x}@{domain}>",
        }
