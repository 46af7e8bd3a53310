"""The coordinator's notebooks, run top to bottom in order on a new database.

Each notebook is executed by nbclient in a fresh ``python3`` kernel, which reads
the database from ``APKIT_DATABASE_URL`` and writes its files into
``APKIT_OUTPUT_DIR``; between notebooks the test checks that the database holds
what the next one expects.
"""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient
from sqlalchemy import func, select

from apkit.model import (
    AccessCode,
    AuditEntry,
    Campaign,
    CampaignStatus,
    Enrolment,
    EnrolmentSource,
    Preference,
    Publication,
    Role,
    Student,
    Teacher,
)
from apkit.store import Store
from tests.conftest import ROOT, new_database_url

NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT_S = 600

pytestmark = pytest.mark.slow


def _execute(name: str, workdir) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()
    return notebook


def _count(store: Store, entity, *where) -> int:
    with store.read() as session:
        statement = select(func.count()).select_from(entity)
        for condition in where:
            statement = statement.where(condition)
        return session.scalar(statement)


def _statuses(store: Store) -> set[CampaignStatus]:
    with store.read() as session:
        return set(session.scalars(select(Campaign.status)))


def _outputs_text(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(str(output.get("data", {}).get("text/plain", "")))
            parts.append(str(output.get("data", {}).get("text/html", "")))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def environment(tmp_path_factory):
    """A new database and output folder, named in the kernels' environment."""
    folder = tmp_path_factory.mktemp("notebooks")
    url = new_database_url(folder)
    output = folder / "sorties"
    patch = pytest.MonkeyPatch()
    patch.setenv("APKIT_DATABASE_URL", url)
    patch.setenv("APKIT_OUTPUT_DIR", str(output))
    store = Store(url)
    yield store, folder, output
    store.dispose()
    patch.undo()


def test_notebooks_run_in_order(environment):
    store, workdir, output = environment

    first = _execute("01_preparer_annee.ipynb", workdir)
    assert _count(store, Student) == 360
    assert _count(store, Teacher) == 27
    assert _count(store, Campaign) == 3
    assert _statuses(store) == {CampaignStatus.DRAFT}
    assert _count(store, AccessCode, AccessCode.role == Role.TEACHER) == 27
    assert _count(store, AccessCode, AccessCode.role == Role.COORDINATOR) == 1
    assert (output / "codes_personnels.csv").is_file()
    assert "360 ajoutés" in _outputs_text(first)

    second = _execute("02_preparer_periode.ipynb", workdir)
    assert _statuses(store) == {CampaignStatus.OPEN}
    assert _count(store, Preference) == 1986
    assert _count(store, AccessCode, AccessCode.role == Role.STUDENT) == 360
    assert (output / "codes_eleves.csv").is_file()
    assert "P1-A05" in _outputs_text(second)

    third = _execute("03_repartir_et_verifier.ipynb", workdir)
    assert _statuses(store) == {CampaignStatus.PUBLISHED}
    placed = _count(store, Enrolment)
    assert 720 - 5 <= placed <= 720
    forced = _count(store, Enrolment, Enrolment.source == EnrolmentSource.FORCED)
    assert forced == 1
    assert _count(store, AuditEntry, AuditEntry.reason == "demande du professeur") == 1
    assert "demande du professeur" in _outputs_text(third)
    assert _count(store, Publication) == 3
    assert len(list(output.glob("*/publication.json"))) == 3

    fourth = _execute("04_resultats_et_historique.ipynb", workdir)
    for name in (
        "administration_P1.xlsx",
        "emargement_P1.pdf",
        "barrette_A_P1.csv",
        "barrette_B_P1.csv",
        "barrette_C_P1.csv",
        "parcours.xlsx",
    ):
        assert (output / name).stat().st_size > 0, name
    images = [
        output
        for cell in fourth.cells
        for output in cell.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
    ]
    assert len(images) == 6
