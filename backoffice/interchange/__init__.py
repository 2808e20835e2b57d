"""The interchange format (the project's contract: interchange.md, and the project's own keys in
docs/interchange-extensions.md): agreements as JSON Lines, exported and imported."""

from backoffice.interchange.exporting import AgreementRecords, export_lines, export_records
from backoffice.interchange.importing import Report, import_lines

__all__ = ["AgreementRecords", "Report", "export_lines", "export_records", "import_lines"]
