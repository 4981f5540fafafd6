"""Import a township roster (花名册) of children into the registry.

    python manage.py import_minors FILE --region CODE [--dry-run] [--error-report OUT.xlsx] [--json]

What it prints and its exit codes: `guanai.imports.command`, shared with `import_volunteers`.
"""

from __future__ import annotations

from guanai.imports.command import RosterImportCommand
from guanai.minors.importing import minor_roster_import


class Command(RosterImportCommand):
    help = "Import a roster (.xlsx, .xls, .csv) of children into the registry of a region."

    import_roster = staticmethod(minor_roster_import)
