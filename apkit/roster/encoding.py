"""Bytes of a roster file: size limit, zip members and text decoding.

Text files are decoded the way French school exports need: a UTF-8 BOM means
UTF-8, a UTF-16 BOM means UTF-16 (Excel's « Texte Unicode », tab-separated), and
text with a NUL byte beside most characters is UTF-16 without a BOM. Otherwise
the text is strict UTF-8 when it decodes, else cp1252 (what Excel writes on
French Windows). Latin-1 is never used, because it turns cp1252's ’ œ Œ – — into
invisible control characters.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import NamedTuple

from apkit.errors import RosterError

MAX_BYTES = 50 * 1024 * 1024
"""Largest roster file read; a real school's exports stay under a few megabytes."""

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Bytes examined to recognise UTF-16 without a BOM, and the minimum share of NUL
# bytes at its odd (little-endian) or even (big-endian) positions, because Latin
# text has a NUL byte beside nearly every letter.
UTF16_SNIFF_BYTES = 400
UTF16_NUL_SHARE = 0.8


def read_bytes(path: Path, *, max_bytes: int = MAX_BYTES) -> bytes:
    """Read ``path`` whole after checking that it exists and is not too large.

    Raises
    ------
    RosterError
        When the file is missing, is a folder, or is larger than ``max_bytes``.
    """
    if not path.exists():
        raise RosterError(
            "fichier introuvable",
            path=path,
            hint="vérifiez le chemin et le nom du fichier",
        )
    if not path.is_file():
        raise RosterError(
            "ce chemin est un dossier, pas un fichier",
            path=path,
            hint="indiquez le fichier exporté lui-même",
        )
    size = path.stat().st_size
    if size > max_bytes:
        raise RosterError(
            f"fichier trop volumineux pour une liste d'élèves ({size // 1_000_000} Mo, "
            f"maximum {max_bytes // 1_000_000} Mo)",
            path=path,
            hint="vérifiez que c'est bien l'export de la liste des élèves",
        )
    return path.read_bytes()


class DecodedText(NamedTuple):
    """A decoded text export; ``truncated`` when it ends inside a UTF-8 character."""

    text: str
    encoding: str
    truncated: bool = False


def utf16_byte_order(data: bytes) -> str | None:
    """Return ``"utf-16-le"`` or ``"utf-16-be"`` for UTF-16 text without a BOM.

    The start of Latin text in UTF-16 has a NUL byte after (little-endian) or
    before (big-endian) each ASCII letter. Other data returns ``None``, and so
    does text too short to tell (under 8 bytes).
    """
    head = data[:UTF16_SNIFF_BYTES]
    if len(head) < 8:
        return None
    even_nuls, odd_nuls = head[0::2].count(0), head[1::2].count(0)
    threshold = UTF16_NUL_SHARE * len(head) / 2
    if odd_nuls > threshold and odd_nuls > even_nuls:
        return "utf-16-le"
    if even_nuls > threshold:
        return "utf-16-be"
    return None


def _decode_utf16_without_bom(data: bytes) -> DecodedText | None:
    """Decode BOM-less UTF-16 text, or return ``None`` if ``data`` is not that."""
    byte_order = utf16_byte_order(data)
    if byte_order is None:
        return None
    truncated = len(data) % 2 == 1
    try:
        text = data[: len(data) - truncated].decode(byte_order)
    except UnicodeDecodeError:
        return None
    # A NUL character left after decoding means binary data, not text.
    if "\x00" in text:
        return None
    return DecodedText(text, byte_order, truncated)


def decode_text(data: bytes) -> DecodedText:
    """Decode a text export.

    The encoding is ``"utf-8-sig"``, ``"utf-16"``, ``"utf-16-le"`` or
    ``"utf-16-be"`` (no BOM), ``"utf-8"`` or ``"cp1252"``.
    The five bytes that cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D)
    become U+FFFD, and so does a character cut by the end of the file.
    """
    if data.startswith(UTF8_BOM):
        body = data[len(UTF8_BOM) :]
        return DecodedText(body.decode("utf-8", errors="replace"), "utf-8-sig")
    if data.startswith(UTF16_BOMS):
        # The "utf-16" codec reads the BOM for the byte order and drops it.
        text = data.decode("utf-16", errors="replace")
        return DecodedText(text, "utf-16", truncated=len(data) % 2 == 1)
    without_bom = _decode_utf16_without_bom(data)
    if without_bom is not None:
        return without_bom
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        # A download cut inside a multi-byte character is UTF-8 up to the cut,
        # not cp1252.
        if exc.end == len(data) and exc.reason == "unexpected end of data":
            return DecodedText(data.decode("utf-8", errors="replace"), "utf-8", True)
        return DecodedText(data.decode("cp1252", errors="replace"), "cp1252")


def open_zip_member(
    data: bytes, path: Path, suffixes: tuple[str, ...]
) -> tuple[str, bytes]:
    """Return ``(name, bytes)`` of the first zip member whose name ends with a suffix.

    Raises
    ------
    RosterError
        When the archive is damaged or has no such member.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise RosterError(
            "archive zip illisible ou tronquée",
            path=path,
            hint="téléchargez de nouveau l'export",
        ) from exc
    with archive:
        names = [
            info.filename
            for info in archive.infolist()
            if not info.is_dir() and info.filename.lower().endswith(suffixes)
        ]
        if not names:
            found = ", ".join(archive.namelist()) or "aucun fichier"
            raise RosterError(
                f"l'archive ne contient aucun fichier {' ou '.join(suffixes)} "
                f"(contenu : {found})",
                path=path,
                hint="indiquez l'archive ElevesSansAdresses.zip exportée de SIECLE",
            )
        name = names[0]
        info = archive.getinfo(name)
        if info.file_size > MAX_BYTES:
            raise RosterError(
                f"le fichier {name} de l'archive est trop volumineux "
                f"({info.file_size // 1_000_000} Mo)",
                path=path,
                hint="vérifiez que c'est bien l'export de la liste des élèves",
            )
        try:
            return name, archive.read(name)
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise RosterError(
                f"le fichier {name} de l'archive est illisible",
                path=path,
                hint="téléchargez de nouveau l'export",
            ) from exc
