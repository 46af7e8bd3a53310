"""The students' one-page quick guide, as a printable PDF and as Markdown.

The guide is handed out with the code slips. Its text lives here once, in
:data:`SECTIONS`, and is written both as an A4 PDF with fpdf2 (DejaVu Sans from
``apkit/fonts``, so every French letter prints) and as the Markdown of
``docs/fr/guide-rapide-eleve.md``. ``tests/test_quickguide.py`` checks that the
committed Markdown file matches :func:`markdown_text`; run
``python -m apkit.quickguide`` to write it again after a change.

The messages quoted are those the student page and :mod:`apkit.signup` show.
"""

from __future__ import annotations

import errno
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF, XPos, YPos
from fpdf.fonts import TTFFont

from apkit.errors import ApkitError
from apkit.exports.pdf import FONT_FAMILY, FONTS, printable

log = logging.getLogger(__name__)

TITLE = "Accompagnement personnalisé : t'inscrire à ton atelier"
INTRO = (
    "Chaque période, tu choisis ton atelier d'AP pour chaque heure sur la page "
    "d'inscription. Il te faut ton coupon : il porte ton lien et ton code personnel."
)
ADDRESS_LINE = "Adresse de la page : {url}"
DOCS_PAGE = (
    Path(__file__).resolve().parents[1] / "docs" / "fr" / "guide-rapide-eleve.md"
)


@dataclass(frozen=True)
class Section:
    """One heading of the guide and its lines; ``numbered`` numbers the lines."""

    heading: str
    lines: tuple[str, ...]
    numbered: bool = False


SECTIONS = (
    Section(
        "Les étapes",
        (
            "Ouvre le lien de ton coupon sur un ordinateur ou un téléphone : la page "
            "**Inscription à l'AP** s'ouvre avec ton nom, ta classe et ta barrette.",
            "Sans le lien, tape l'adresse de la page, puis recopie ton code dans "
            "**Ton code :** et clique sur **Valider**.",
            "Inscription directe : sous l'atelier choisi, clique sur **S'inscrire**. "
            "Tant que c'est ouvert, **Changer pour celui-ci** te fait changer "
            "d'atelier.",
            "Vœux classés : choisis tes ateliers dans **Choix 1**, **Choix 2**... "
            "puis clique sur **Enregistrer mes choix**. Fais-le pour chaque heure.",
            "Vérifie le message vert : « C'est noté : tu es inscrit·e à ... » ou "
            "« Tes ... choix pour l'heure ... sont enregistrés. »",
        ),
        numbered=True,
    ),
    Section(
        "Le résultat",
        (
            "Quand les groupes sont publiés, rouvre la même page avec le même code : "
            "**Ton groupe** indique pour chaque heure ton atelier, ton enseignant "
            "et ta salle.",
            "Si un enseignant t'a changé de groupe, la page le montre aussi : "
            "clique sur **Rafraîchir** pour la mettre à jour.",
        ),
    ),
    Section(
        "Si c'est refusé",
        (
            "« Atelier complet » : toutes les places sont prises. Choisis un autre "
            "atelier (le bouton est grisé quand il ne reste aucune place).",
            "« La campagne ... n'est pas ouverte » : les inscriptions sont fermées "
            "ou pas encore ouvertes. Attends l'ouverture annoncée au lycée ou la "
            "publication des groupes.",
            "« Code inconnu ou accès refusé. » : recopie le code sans te tromper. "
            "Majuscules, espaces et tirets ne comptent pas, et un code ne contient "
            "jamais 0, O, 1, I ni L. Après plusieurs erreurs, attends quelques "
            "minutes avant de réessayer.",
            "Toujours refusé ou coupon perdu : demande un nouveau code à la "
            "coordination de l'AP ; l'ancien code ne marchera plus.",
        ),
    ),
    Section(
        "Ton code est secret",
        (
            "Il ouvre ta page à toi seul·e : ne le donne à personne et ne le "
            "publie pas. Garde ton coupon jusqu'à la fin de l'année.",
        ),
    ),
)

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def plain_lines() -> list[str]:
    """Return every line of the guide without Markdown marks, in reading order."""
    lines = [TITLE, INTRO]
    for section in SECTIONS:
        lines.append(section.heading)
        lines.extend(_BOLD.sub(r"\1", line) for line in section.lines)
    return lines


def student_page(base_url: str) -> str:
    """Return the address of the student page, without a code, for a server."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    return f"{base}voila/render/inscription.ipynb"


def markdown_text() -> str:
    """Return the guide as the Markdown of ``docs/fr/guide-rapide-eleve.md``."""
    parts = [
        f"# {TITLE}",
        INTRO,
        "> Pour la coordination : ce guide s'imprime sur une page avec "
        "`apkit quick-guide --output guide-rapide.pdf`, à distribuer avec les "
        "coupons. Le guide complet des élèves est "
        "[guide-eleve.md](guide-eleve.md).",
    ]
    for section in SECTIONS:
        parts.append(f"## {section.heading}")
        items = [
            f"{number}. {line}" if section.numbered else f"- {line}"
            for number, line in enumerate(section.lines, start=1)
        ]
        parts.append("\n".join(items))
    return "\n\n".join(parts) + "\n"


class QuickGuideDocument(FPDF):
    """An A4 portrait document with DejaVu Sans, regular and bold."""

    def __init__(self) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.add_font(FONT_FAMILY, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FONT_FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(auto=True, margin=14)
        self.set_title(TITLE)
        self.set_creator("apkit")


def _write_section(document: QuickGuideDocument, section: Section) -> None:
    document.ln(3)
    document.set_font(FONT_FAMILY, "B", 13)
    document.multi_cell(
        0, 7, printable(section.heading), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    document.set_font(FONT_FAMILY, "", 11)
    for number, line in enumerate(section.lines, start=1):
        mark = f"{number}." if section.numbered else "•"
        document.set_x(document.l_margin)
        document.cell(8, 6, mark)
        document.multi_cell(
            0,
            6,
            printable(line),
            markdown=True,
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        document.ln(1.5)


def write_quick_guide(path: str | Path, *, base_url: str | None = None) -> Path:
    """Write the one-page quick guide as a PDF and return its path.

    Parameters
    ----------
    path
        The PDF file to write; its folder must exist.
    base_url
        The server's public address (as on the slips, for example
        ``https://lycee.fr/ap/``); the student page's address is printed under
        the title when it is given.

    Raises
    ------
    ApkitError
        If the text no longer fits on one page or the file cannot be written.
    """
    path = Path(path)
    document = QuickGuideDocument()
    document.add_page()
    document.set_font(FONT_FAMILY, "B", 17)
    document.multi_cell(
        0, 9, printable(TITLE), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    document.ln(1)
    document.set_font(FONT_FAMILY, "", 11)
    document.multi_cell(
        0, 6, printable(INTRO), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    if base_url:
        document.set_font(FONT_FAMILY, "B", 11)
        line = ADDRESS_LINE.format(url=student_page(base_url))
        document.multi_cell(
            0, 7, printable(line), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
    for section in SECTIONS:
        _write_section(document, section)
    if document.pages_count != 1:
        # fpdf2 closes the font files only when it writes the PDF, so close them here.
        for font in document.fonts.values():
            if isinstance(font, TTFFont):
                font.close()
        raise ApkitError(
            f"Le guide rapide tient sur {document.pages_count} pages au lieu "
            "d'une ; raccourcissez le texte de apkit/quickguide.py"
        )
    try:
        document.output(str(path))
    except OSError as exc:
        raise ApkitError(
            f"Impossible d'écrire le guide rapide dans {path} "
            f"({errno.errorcode.get(exc.errno or 0, 'erreur système')}) ; "
            "vérifiez que le dossier existe et qu'on peut y écrire"
        ) from exc
    log.info("quick guide written to %s", path)
    return path


if __name__ == "__main__":
    DOCS_PAGE.write_text(markdown_text(), encoding="utf-8")
