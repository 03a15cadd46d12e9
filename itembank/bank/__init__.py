"""The bank: the unit format (schema), validation, YAML read/write, import/export, calibration records,
PARAMS.json, response CSVs, statistics and queries over the stored bank.  Imports no other context."""
