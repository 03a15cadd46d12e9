"""Research services without a web framework: data sets, coding of open responses, background
jobs, calibration runs, publication of parameters, learning-outcome reports, plots and the
organisation scope that row-level research data must pass through."""
