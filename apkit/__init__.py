"""apkit: sign-up, allocation and lists for the AP groups of a French lycée."""

import importlib

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
from apkit.store import Store, default_url

# Public names imported on first use (PEP 562), so that "import apkit.X" loads only
# what X needs: the student page's kernel must stay without pandas and matplotlib.
_LAZY_MODULES = {
    "apkit.allocation": (
        "AllocationReport",
        "allocate",
        "allocation_result",
    ),
    "apkit.campaigns": (
        "FeasibilityProblem",
        "check_feasibility",
        "close_campaign",
        "find_campaign",
        "list_campaigns",
        "mark_published",
        "open_campaign",
        "set_campaign_mode",
    ),
    "apkit.corrections": (
        "move_student",
        "place_unplaced",
        "undo",
    ),
    "apkit.directory": (
        "RosterChanges",
        "TeacherChanges",
        "import_roster",
        "import_teachers",
    ),
    "apkit.exports": (
        "write_admin_workbook",
        "write_attendance_pdf",
        "write_csv",
    ),
    "apkit.history": (
        "find_students",
        "student_history",
        "unplaced_students",
    ),
    "apkit.preference_import": ("import_preferences",),
    "apkit.roster": ("Roster", "TeacherRoster"),
    "apkit.preferences": (
        "get_preferences",
        "set_preferences",
    ),
    "apkit.reports": (
        "activity_list",
        "block_list",
        "class_list",
        "student_history_table",
        "teacher_lists",
        "unplaced_list",
    ),
    "apkit.sample": ("ensure_sample_school",),
    "apkit.school": (
        "SchoolSetup",
        "SetupChanges",
        "import_school",
        "load_school",
    ),
    "apkit.signup": (
        "SignupResult",
        "enrol",
        "places_left",
        "unenrol",
    ),
    "apkit.access": (
        "Identity",
        "authenticate",
        "generate_codes",
    ),
    "apkit.backup": ("BackupError", "backup", "restore"),
    "apkit.privacy": ("PurgeError", "export_student", "purge_school_year"),
    "apkit.publication": ("publish", "update_publication"),
    "apkit.mailing": ("MailError", "SmtpSettings", "send_publication"),
}
_LAZY = {name: module for module, names in _LAZY_MODULES.items() for name in names}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'apkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "BackupError",
    "MailError",
    "PurgeError",
    "SmtpSettings",
    "backup",
    "export_student",
    "publish",
    "purge_school_year",
    "restore",
    "send_publication",
    "update_publication",
    "Identity",
    "authenticate",
    "generate_codes",
    "AccessDenied",
    "AllocationReport",
    "ApkitError",
    "CampaignError",
    "CapacityError",
    "EligibilityError",
    "FeasibilityError",
    "FeasibilityProblem",
    "NotFoundError",
    "RosterChanges",
    "Roster",
    "RosterError",
    "SchoolSetup",
    "SetupChanges",
    "SetupError",
    "SignupResult",
    "Store",
    "StoreError",
    "TeacherChanges",
    "TeacherRoster",
    "activity_list",
    "allocate",
    "allocation_result",
    "block_list",
    "check_feasibility",
    "class_list",
    "close_campaign",
    "default_url",
    "enrol",
    "ensure_sample_school",
    "find_campaign",
    "find_students",
    "get_preferences",
    "import_preferences",
    "import_roster",
    "import_school",
    "import_teachers",
    "list_campaigns",
    "load_school",
    "mark_published",
    "move_student",
    "open_campaign",
    "place_unplaced",
    "places_left",
    "set_campaign_mode",
    "set_preferences",
    "student_history",
    "student_history_table",
    "teacher_lists",
    "undo",
    "unenrol",
    "unplaced_list",
    "unplaced_students",
    "write_admin_workbook",
    "write_attendance_pdf",
    "write_csv",
]
