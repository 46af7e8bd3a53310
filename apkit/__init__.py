"""apkit: sign-up, allocation and lists for the AP groups of a French lycée."""

from apkit.directory import (
    RosterChanges,
    TeacherChanges,
    import_roster,
    import_teachers,
)
from apkit.errors import (
    AccessDenied,
    ApkitError,
    CampaignError,
    CapacityError,
    EligibilityError,
    FeasibilityError,
    NotFoundError,
    RosterError,
    SetupError,
    StoreError,
)
from apkit.preference_import import import_preferences
from apkit.sample import ensure_sample_school
from apkit.school import SchoolSetup, SetupChanges, import_school, load_school
from apkit.store import Store, default_url

__version__ = "0.1.0"

__all__ = [
    "AccessDenied",
    "ApkitError",
    "CampaignError",
    "CapacityError",
    "EligibilityError",
    "FeasibilityError",
    "NotFoundError",
    "RosterChanges",
    "RosterError",
    "SchoolSetup",
    "SetupChanges",
    "SetupError",
    "Store",
    "StoreError",
    "TeacherChanges",
    "default_url",
    "ensure_sample_school",
    "import_preferences",
    "import_roster",
    "import_school",
    "import_teachers",
    "load_school",
]
