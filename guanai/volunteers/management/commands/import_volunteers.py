"""Import a roster (五老花名册) of volunteers.

    python manage.py import_volunteers FILE --region CODE [--dry-run] [--error-report OUT.xlsx] [--json]

What it prints and its exit codes: `guanai.imports.command`, shared with `import_minors`.
"""

from __future__ import annotations

from guanai.imports.command import RosterImportCommand
from guanai.volunteers.importing import volunteer_roster_import


class Command(RosterImportCommand):
    help = "Import a roster (.xlsx, .xls, .csv) of 五老 volunteers into a region."

    import_roster = staticmethod(volunteer_roster_import)
