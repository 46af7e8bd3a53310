"""Files for people outside apkit: CSV, XLSX workbooks, PDF attendance sheets.

Every writer neutralises text that a spreadsheet would run as a formula and keeps
file names built from user input inside the export folder (:mod:`.safety`).
"""

from apkit.exports.csvfile import write_csv
from apkit.exports.pdf import write_attendance_pdf
from apkit.exports.safety import (
    ExportPathError,
    neutralise_formula,
    path_inside,
    safe_filename,
)
from apkit.exports.xlsx import write_admin_workbook, write_workbook

__all__ = [
    "ExportPathError",
    "neutralise_formula",
    "path_inside",
    "safe_filename",
    "write_admin_workbook",
    "write_attendance_pdf",
    "write_csv",
    "write_workbook",
]
