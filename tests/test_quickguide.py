"""The students' quick guide: one PDF page read back with pypdf, and its Markdown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from apkit import quickguide, signup
from apkit.cli import main
from apkit.errors import AccessDenied, ApkitError
from apkit.widgets import inscription
from tests.conftest import ROOT


def _pdf_text(path) -> tuple[int, str]:
    reader = PdfReader(path)
    text = "\n".join(page.extract_text() for page in reader.pages)
    # Lines wrap anywhere in the PDF: compare words separated by single spaces.
    return len(reader.pages), re.sub(r"\s+", " ", text)


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_pdf_has_one_page_with_every_line(tmp_path):
    path = quickguide.write_quick_guide(tmp_path / "guide.pdf")
    pages, text = _pdf_text(path)
    assert pages == 1
    for line in quickguide.plain_lines():
        assert _squeeze(line) in text


def test_pdf_prints_student_page_address(tmp_path):
    path = quickguide.write_quick_guide(
        tmp_path / "guide.pdf", base_url="https://lycee.fr/ap"
    )
    _pages, text = _pdf_text(path)
    assert (
        "Adresse de la page : https://lycee.fr/ap/voila/render/inscription.ipynb"
        in text
    )


def test_pdf_without_address_omits_line(tmp_path):
    _pages, text = _pdf_text(quickguide.write_quick_guide(tmp_path / "guide.pdf"))
    assert "Adresse de la page" not in text


def test_pdf_keeps_french_letters(tmp_path):
    _pages, text = _pdf_text(quickguide.write_quick_guide(tmp_path / "guide.pdf"))
    for word in ("Vœux", "période", "inscrit·e", "Rafraîchir", "« Atelier complet »"):
        assert word in text


def test_guide_quotes_page_messages():
    text = " ".join(quickguide.plain_lines())
    assert str(AccessDenied()) in text
    page_source = _squeeze(Path(inscription.__file__).read_text(encoding="utf-8"))
    for label in ('"Valider"', '"S\'inscrire"', '"Changer pour celui-ci"'):
        assert label in page_source
    assert "Enregistrer mes choix" in page_source
    assert "C'est noté : tu es inscrit·e à" in page_source
    assert 'f"Atelier complet : ' in Path(signup.__file__).read_text(encoding="utf-8")


def test_markdown_page_matches_module():
    committed = (ROOT / "docs" / "fr" / "guide-rapide-eleve.md").read_text(
        encoding="utf-8"
    )
    assert committed == quickguide.markdown_text()


def test_text_too_long_raises(tmp_path, monkeypatch):
    long = quickguide.Section("Trop long", ("Une ligne de plus. " * 40,) * 12)
    monkeypatch.setattr(quickguide, "SECTIONS", (*quickguide.SECTIONS, long))
    with pytest.raises(ApkitError, match=r"tient sur \d+ pages au lieu d'une"):
        quickguide.write_quick_guide(tmp_path / "guide.pdf")
    assert not (tmp_path / "guide.pdf").exists()


def test_cli_writes_pdf(tmp_path, capsys):
    path = tmp_path / "guide-rapide.pdf"
    assert main(["quick-guide", "--output", str(path)]) == 0
    assert capsys.readouterr().out == f"Guide rapide écrit : {path}\n"
    assert _pdf_text(path)[0] == 1


def test_cli_missing_folder_fails(tmp_path, capsys):
    path = tmp_path / "absent" / "guide.pdf"
    assert main(["quick-guide", "--output", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"apkit : Impossible d'écrire le guide rapide dans {path} (ENOENT) ; "
        "vérifiez que le dossier existe et qu'on peut y écrire\n"
    )
