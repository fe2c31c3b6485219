"""The demo's word lists: names, companies, subjects and message texts.

Everything here is fictional: every domain ends in ``.example`` or ``.test``. Texts that end up
in HTML are already HTML (entities included); ``{first}``, ``{company}``, ``{sender_first}``,
``{hook}`` and ``{ref}`` are filled in per conversation.
"""

# Names and subjects hold look-alike letters (dotless i, the times sign) on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import unicodedata
from typing import NamedTuple

_TRANSLIT = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "đ": "d",
     "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "ı": "i", "œ": "oe"}
)  # fmt: skip


def ascii_fold(text: str) -> str:
    """``Łukasz Wiśniewski`` -> ``lukaszwisniewski``: what an email address is made of."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return "".join(c for c in decomposed.lower() if c.isascii() and c.isalnum())


class PersonName(NamedTuple):
    first: str
    full: str
    first_ascii: str
    last_ascii: str


Token = tuple[str, str]
"""A name as shown, and romanised for an email address."""


def _split(token: str) -> Token:
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

NAME_GROUPS: tuple[tuple[tuple[Token, ...], tuple[Token, ...], str], ...] = tuple(
    (tuple(map(_split, givens)), tuple(map(_split, families)), order)
    for givens, families, order in _NAME_GROUPS
)
"""The groups above with every name split into (shown, romanised) once."""

# Names worth seeing as they are (first, full, first_ascii, last_ascii).
NOTABLE_NAMES: tuple[PersonName, ...] = (
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

COMPANIES: tuple[tuple[str, str], ...] = (
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
TEAM: tuple[tuple[str, str, str, str], ...] = (
    ("Camille", "Martin", "admin", "google"),
    ("Jonas", "Becker", "user", "microsoft"),
    ("Priya", "Raman", "user", "google"),
    ("Diego", "Álvarez", "user", "smtp"),
    ("Aiko", "Tanaka", "admin", "google"),
    ("Malik", "Johnson", "user", "microsoft"),
    ("Sofia", "Rossi", "user", "google"),
    ("Liam", "O'Brien", "user", "google"),
)

LABELS: tuple[tuple[str, str], ...] = (
    ("Interested", "#22C55E"),
    ("Meeting booked", "#3B82F6"),
    ("Follow up", "#F59E0B"),
    ("Not now", "#A855F7"),
    ("Wrong person", "#EF4444"),
    ("VIP ⭐", "#EAB308"),
)

OPPORTUNITY_TYPES = ("interested", "meeting_booked", "meeting_done", "deal_won", "deal_lost")

SUBJECTS = (
    "Quick question about {company}",
    "{first}, an idea for {company}",
    "{company} × Acme Sales",
    "Cutting ramp-up time at {company}",
    "Worth a 15-minute chat?",
    "Intro: Acme Sales → {company}",
    "Your outbound at {company}",
)

HOOKS = (
    "hiring three SDRs this quarter",
    "expanding into the DACH market",
    "rolling out a new pricing page",
    "opening an office in Lisbon",
    "moving pipeline reviews off spreadsheets",
    "launching a partner programme",
)

VALUES = (
    "book 30% more meetings without adding headcount",
    "cut ramp-up time for new reps in half",
    "keep every follow-up on time across email &amp; LinkedIn",
    "turn cold lists into warm conversations",
)

PROOFS = (
    "Globex saw a 2&times; reply rate in six weeks",
    "Initech&rsquo;s team books 40 demos a month with it",
    "Soylent Foods replaced three tools with it",
    "the team at Hooli calls it their secret weapon",
)

FOLLOW_UPS = (
    "<p>Just bumping this to the top of your inbox in case it got buried.</p>"
    "<p>Is improving outbound a priority for {company} this quarter?</p>",
    "<p>I know things get busy&nbsp;&mdash; would a short call next week make sense?</p>",
    "<p>Should I close your file? If the timing is off, no worries at all &mdash; "
    "just let me know and I&rsquo;ll stop following up.</p>",
    "<p>Thought this case study might be useful: "
    '<a href="https://acme-sales.example/stories/globex">how Globex doubled replies</a>.</p>',
)

INBOUND_REPLIES = (
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

ANSWERS = (
    "<p>Great, thanks {first}! I&rsquo;ve sent an invite for Thursday.</p>",
    "<p>Totally understand &mdash; I&rsquo;ll check back in a few months.</p>",
    '<p>Here is the pricing sheet: <a href="https://acme-sales.example/pricing?ref={ref}">'
    "pricing &amp; plans</a>.</p><p>Happy to walk you through it.</p>",
    "<p>Done, you won&rsquo;t hear from me again. Sorry for the noise!</p>",
    "<p>Good question: onboarding takes about a week, and we do the heavy lifting.</p>",
)

SHORT_OUTBOUND = (
    "Hi {first}, saw your post about {hook} &mdash; would love to connect and swap notes.",
    "Hi {first}! Quick one: how is {company} handling outbound today?",
    "Thanks for connecting, {first}. Open to a short chat next week?",
)

SHORT_INBOUND = (
    "Thanks for reaching out! Happy to connect.",
    "Sounds good, send me a few slots 🙂",
    "Not interested, thanks.",
    "Can you email me instead? It&rsquo;s easier to track.",
)

CALL_NOTES = (
    "Call with {first}: left a voicemail, will try again Thursday.",
    "Call with {first}: 12 min, interested, wants a demo with their CTO.",
    "Call with {first}: no answer.",
)

STYLE_BLOCK = (
    "<style>p{margin:0 0 12px;line-height:1.5}a{color:#316fea}"
    ".sig{color:#888;font-size:12px}</style>"
)
