"""XML exports: safe parsing, the root element and the source line of each record.

Parsing goes through defusedxml, which honours the encoding the prologue
declares (SIECLE and STS-Web declare ISO-8859-15, where 0xBC is Œ) and a UTF-8
BOM, and refuses entity expansion attacks.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from apkit.errors import RosterError

_ROOT = re.compile(rb"<([A-Za-z_][\w.\-]*)")
_ENCODING = re.compile(rb"""<\?xml[^>]*encoding=["']([A-Za-z0-9._\-]+)["']""")
_SKIPPED = re.compile(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", re.DOTALL)


def root_tag(data: bytes) -> str | None:
    """Return the root element's name from the first bytes, or None if not XML.

    Only ASCII-compatible encodings (UTF-8, ISO-8859-*, cp1252) are recognised,
    which covers every export apkit reads.
    """
    head = data[:4096].removeprefix(b"\xef\xbb\xbf").lstrip()
    if not head.startswith(b"<"):
        return None
    match = _ROOT.search(_SKIPPED.sub(b"", head))
    return match.group(1).decode("ascii") if match else None


def parse_xml(data: bytes, path: Path) -> Element:
    """Parse ``data`` and return the root element.

    Raises
    ------
    RosterError
        When the XML is malformed or truncated (with the line), or declares
        entities.
    """
    try:
        return SafeET.fromstring(data)
    except ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise RosterError(
            f"XML mal formé ou tronqué ({exc})",
            path=path,
            line=line,
            hint="téléchargez de nouveau l'export sans l'ouvrir ni le modifier",
        ) from exc
    except defusedxml.DefusedXmlException as exc:
        raise RosterError(
            "XML refusé : il déclare des entités, ce que les exports ne font pas",
            path=path,
            hint="utilisez le fichier tel que le logiciel l'a exporté",
        ) from exc


def record_lines(data: bytes, tags: tuple[str, ...], count: int) -> list[int | None]:
    """Return the source line of each of ``count`` records, in document order.

    A record starts with one of ``tags``. ElementTree keeps no line numbers, so
    the starts are found in the bytes; when their number is not ``count`` (a
    tag inside a comment or a CDATA section), every line is ``None``.
    """
    names = b"|".join(re.escape(tag.encode()) for tag in tags)
    pattern = re.compile(rb"<(?:" + names + rb")[\s/>]")
    lines: list[int | None] = []
    line, position = 1, 0
    for match in pattern.finditer(data):
        line += data.count(b"\n", position, match.start())
        position = match.start()
        lines.append(line)
    return lines if len(lines) == count else [None] * count


def text(element: Element | None, tag: str) -> str:
    """Return the stripped text of ``element``'s child ``tag``, or ``""``."""
    if element is None:
        return ""
    child = element.find(tag)
    if child is None or child.text is None:
        return ""
    return child.text.strip()


def declared_encoding(data: bytes) -> str:
    """Return the encoding the parser used: a BOM's, else the prologue's, else UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    match = _ENCODING.search(data[:200])
    return match.group(1).decode("ascii").lower() if match else "utf-8"
