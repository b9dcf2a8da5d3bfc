"""Demo data: a believable business whose customers buy at their own rates and drift away."""
