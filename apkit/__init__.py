"""apkit: sign-up, allocation and lists for the AP groups of a French lycée."""

from apkit.campaigns import (
    Problem,
    check_feasibility,
    close_campaign,
    find_campaign,
    list_campaigns,
    mark_published,
    open_campaign,
)
from apkit.corrections import move_student, place_unplaced, undo
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
from apkit.exports import write_admin_workbook, write_attendance_pdf, write_csv
from apkit.history import find_students, student_history, unplaced_students
from apkit.preference_import import import_preferences
from apkit.preferences import get_preferences, set_preferences
from apkit.reports import (
    activity_list,
    block_list,
    class_list,
    student_history_table,
    teacher_lists,
    unplaced_list,
)
from apkit.sample import ensure_sample_school
from apkit.school import SchoolSetup, SetupChanges, import_school, load_school
from apkit.signup import SignupResult, enrol, places_left, unenrol
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
    "Problem",
    "RosterChanges",
    "RosterError",
    "SchoolSetup",
    "SetupChanges",
    "SetupError",
    "SignupResult",
    "Store",
    "StoreError",
    "TeacherChanges",
    "activity_list",
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
