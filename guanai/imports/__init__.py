"""The shared roster reader: the Excel and CSV rosters (花名册) that townships keep, read row by row.

Generic on purpose — it knows spreadsheets, not children: the minors import (`guanai.minors.importing`)
and the volunteer import describe their columns as `Field`s and get back rows with Excel row numbers.

    reading.py   open a file (.xlsx, .xls, .csv), stream its rows with their Excel row numbers
    headers.py   find the header (rows above it, two-row merged headers, aliases) and the data rows
                 (footers, blank rows and repeated headers left out)
    cells.py     cell values as text, and `neutralise_cell` for every value written into a workbook
    workbooks.py writing workbooks: an error report of refused rows, a blank template
    models.py    ImportBatch: one import of one file (who, where, status, counts, refused rows)

What the two roster imports share beyond reading, each importer saying what its roster is:

    results.py   RowError, ImportResult, and the error report made from them
    rows.py      a row reader's columns: a field's cell, the village a row names, the column of an error
    writing.py   the batch writer's matching (ID number, or name, birth date and village) and bulk writes
    running.py   run_roster_import: the region, the batch record, one transaction, the audit event
    command.py   the body of the import_minors and import_volunteers commands
"""
