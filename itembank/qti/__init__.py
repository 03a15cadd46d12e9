"""IMS QTI 3.0 content packages in and out of the bank (QTI 2.1/2.2 items read too).

``export_qti(units, images, out)`` writes a package; ``read_qti_package(data, name)`` reads one into
a :class:`~itembank.validation.LoadedBank` for :func:`itembank.importer.import_bank`.
"""

from .export import export_bank_qti, export_qti, package_files

__all__ = ["export_bank_qti", "export_qti", "package_files"]
