"""Psychometrics as a library: IRT models, calibration, scoring, fit, DIF, linking, CAT.

Pure numpy/scipy: no web framework, no database, no file formats.
"""

from .models import (
    MODELS,
    ItemParameters,
    ParameterError,
    category_probabilities,
    item_information,
    log_likelihood,
    test_information,
)

__all__ = [
    "MODELS",
    "ItemParameters",
    "ParameterError",
    "category_probabilities",
    "item_information",
    "log_likelihood",
    "test_information",
]
