"""Project-wide pieces: domain errors, the periodic-job schedule and the scheduler command."""
