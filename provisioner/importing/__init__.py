"""Bulk import and export of a tenant's extensions (CSV and XLSX spreadsheets).

The data flows through small stages; only the two ends touch files or the database:

    file --reader--> Header + RawRow stream          (adapter: bytes -> text cells)
         --validate--> ValidRow | Problem             (pure: per row, across rows, vs TenantState)
         --plan------> created / updated / unchanged  (pure: diff against TenantState)
         --apply-----> one transaction, bulk SQL      (adapter: the database)
    pipeline.py strings them together; cli.py and api.py are the thin outer adapters.
    What validation knows across rows and about the tenant sits behind crossrows.CrossRows:
    MemoryIndex (dicts, pure) or scratch.DiskIndex (a temporary SQLite file, so an import's
    memory does not grow with the number of rows; the pipeline uses it).

validate.py and plan.py never import sqlalchemy, click or openpyxl, and do no I/O
(tests/test_import_pure.py checks it in a fresh interpreter).

Exceptions (errors.py; a branch of the provisioner's tree in provisioner/errors.py):

    ImportingError (InputError)          anything the installer must correct; str() says how
     ├── UnreadableFile                  not a CSV/XLSX we can read, unknown sheet, no header row
     ├── UnknownTenant (NotFoundError)   no tenant with that slug
     └── FileChanged (ConflictError)     (api.py) the file confirmed is not the one previewed

Problems found *in* a file are not exceptions: they are Problem values, all collected,
and the import writes nothing while any error-level Problem exists.
"""
