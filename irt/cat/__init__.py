"""Computerized adaptive testing over PISA-style units: the engine (:func:`next_step`,
:func:`finish`), its bank (:class:`CatBank`), configuration (:class:`CatConfig`) and simulator."""

from .bank import BankItem, CatBank, CatBankError
from .config import CatConfig, CatConfigError
from .engine import CatHistoryError, FinalResult, Step, finish, next_step

__all__ = [
    "BankItem",
    "CatBank",
    "CatBankError",
    "CatConfig",
    "CatConfigError",
    "CatHistoryError",
    "FinalResult",
    "Step",
    "finish",
    "next_step",
]
