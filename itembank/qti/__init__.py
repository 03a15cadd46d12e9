"""IMS QTI 3.0 content packages in and out of the bank (QTI 2.1/2.2 items read too).

``export_qti(units, images, out)`` writes a package; ``read_qti_package(data, name)`` reads one into
a :class:`QtiBank` (a :class:`~itembank.bank.validation.LoadedBank` with notes) for
:func:`itembank.bank.importer.import_bank`.  See docs/qti.md.
"""

from .export import ExportSummary, export_bank_qti, export_qti, package_files
from .package import Limits
from .read import QtiBank, read_qti_files, read_qti_package

__all__ = ["ExportSummary", "Limits", "QtiBank", "export_bank_qti", "export_qti", "package_files",
           "read_qti_files", "read_qti_package"]
