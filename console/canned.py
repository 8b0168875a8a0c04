"""The seller's canned replies: a text file of "# Title" lines, each followed by its text.

Read on every page that shows them (the file is small), so the seller's edits need no restart.
A missing or unreadable file means no canned replies, never a broken page.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
MAX_REPLIES = 50
MAX_TITLE = 80
MAX_TEXT = 1600  # one WhatsApp body


@dataclass(frozen=True)
class CannedReply:
    title: str
    text: str


def parse(source: str) -> list[CannedReply]:
    """The replies in `source`; text before the first title is a comment, empty replies are dropped."""
    replies: list[CannedReply] = []
    title, lines = None, []  # type: tuple[str | None, list[str]]
    for line in source.splitlines() + ["# "]:
        if line.startswith("# "):
            text = "\n".join(lines).strip()
            if title and text:
                replies.append(CannedReply(title[:MAX_TITLE], text[:MAX_TEXT]))
            title, lines = line[2:].strip(), []
        elif title is not None:
            lines.append(line.rstrip())
    return replies[:MAX_REPLIES]


def load(path: Path) -> list[CannedReply]:
    try:
        return parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("canned replies unavailable (%s): %s", path, exc)
        return []
