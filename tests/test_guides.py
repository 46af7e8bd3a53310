"""The French guides in docs/fr: every link and image resolves, every capture is used.

The captures are written by ``tests/browser/test_guide_screenshots.py``; this test
only reads the committed files, so it runs without a browser.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

GUIDES = ROOT / "docs" / "fr"
CAPTURES = GUIDES / "captures"
EXPECTED_PAGES = [
    "guide-administration.md",
    "guide-coordination.md",
    "guide-eleve.md",
    "guide-enseignant.md",
    "guide-rapide-eleve.md",
    "index.md",
]
# ![text](target) and [text](target), outside code spans; the target ends at a
# space (an optional title) or at the closing bracket.
IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)[^)]*\)")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)[^)]*\)")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _pages() -> list[Path]:
    return sorted(GUIDES.glob("*.md"))


def _text_outside_code(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    return re.sub(r"`[^`\n]*`", "", text)


def _local(target: str) -> str | None:
    """Return the file part of a relative target, or None for a web address."""
    if re.match(r"[a-z]+:", target) or target.startswith("#"):
        return None
    return target.split("#", 1)[0]


def test_every_guide_present():
    assert [p.name for p in _pages()] == EXPECTED_PAGES


@pytest.mark.parametrize("page", EXPECTED_PAGES)
def test_images_exist(page):
    path = GUIDES / page
    for alt, target in IMAGE.findall(_text_outside_code(path)):
        assert alt.strip(), f"{page}: image {target} has no description"
        local = _local(target)
        assert local is not None, f"{page}: image {target} is not a local file"
        image = (path.parent / local).resolve()
        assert image.is_file(), f"{page}: missing image {target}"
        assert image.read_bytes()[:8] == PNG_SIGNATURE, f"{page}: {target} not a PNG"


@pytest.mark.parametrize("page", EXPECTED_PAGES)
def test_links_exist(page):
    path = GUIDES / page
    for target in LINK.findall(_text_outside_code(path)):
        local = _local(target)
        if local is None:
            continue
        assert (path.parent / local).resolve().exists(), f"{page}: broken {target}"


def test_every_capture_used():
    used = set()
    for path in _pages():
        for _alt, target in IMAGE.findall(_text_outside_code(path)):
            used.add((path.parent / target).resolve())
    captures = sorted(CAPTURES.glob("*.png"))
    assert captures, "docs/fr/captures holds no PNG"
    unused = [c.name for c in captures if c.resolve() not in used]
    assert unused == []


def test_student_pages_captured_at_phone_width():
    mobile = {p.name for p in CAPTURES.glob("eleve_*_mobile.png")}
    for desktop in CAPTURES.glob("eleve_*.png"):
        if desktop.stem.endswith("_mobile") or "refuse" in desktop.stem:
            continue
        assert f"{desktop.stem}_mobile.png" in mobile


def test_index_links_every_guide():
    links = set(LINK.findall(_text_outside_code(GUIDES / "index.md")))
    for page in EXPECTED_PAGES:
        if page != "index.md":
            assert page in links
