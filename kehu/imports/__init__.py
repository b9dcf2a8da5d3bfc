"""Import and export of tabular files (CSV, XLSX): mapping, dry run, error reports, streaming."""
