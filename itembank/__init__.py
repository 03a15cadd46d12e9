"""The global competence item bank: item format, validation, storage and the `itembank` CLI."""

__version__ = "0.1.0"
