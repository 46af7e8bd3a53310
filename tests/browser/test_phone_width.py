"""Every page at a phone's width (390 px): nothing cut off, nothing off screen."""

from __future__ import annotations

import pytest

from apkit.model import Role

pytestmark = pytest.mark.browser

PHONE_WIDTH = 390

# Widgets whose right edge is past the screen, and labels whose text is cut
# (wider than their box), as "class: text" strings.
LAYOUT_PROBLEMS = """
(width) => {
  const problems = [];
  const describe = (element) =>
    element.className + ': ' + element.innerText.slice(0, 40);
  for (const element of document.querySelectorAll('.apkit-page .jupyter-widgets')) {
    const box = element.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1) {
      problems.push('past the edge: ' + describe(element));
    }
  }
  const labels = '.apkit-page .widget-label, .apkit-page .widget-checkbox label, '
    + '.apkit-page .lm-TabBar-tabLabel';
  for (const element of document.querySelectorAll(labels)) {
    if (element.clientWidth > 0 && element.scrollWidth > element.clientWidth + 1) {
      problems.push('cut: ' + describe(element));
    }
  }
  return problems;
}
"""


@pytest.mark.parametrize(
    ("notebook", "role", "ready"),
    [
        ("accueil.ipynb", None, ".apkit-page"),
        ("inscription.ipynb", Role.STUDENT, "text=Heure 1"),
        ("corrections.ipynb", Role.COORDINATOR, "text=Chercher un élève"),
        ("listes.ipynb", Role.TEACHER, "text=Période"),
        ("statistiques.ipynb", Role.COORDINATOR, ".lm-TabBar-tab"),
    ],
)
def test_page_fits_phone_width(
    served_school, new_page, open_dashboard, screenshot, notebook, role, ready
):
    query = {} if role is None else {"code": served_school.code_of(role).code}
    page = new_page(width=PHONE_WIDTH, height=844)
    open_dashboard(page, served_school.url(notebook, **query))
    page.wait_for_selector(ready)
    screenshot(page, f"telephone_{notebook.removesuffix('.ipynb')}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    assert page.evaluate(LAYOUT_PROBLEMS, PHONE_WIDTH) == []
