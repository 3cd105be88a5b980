"""Benchmarks, run as modules (`python -m bench.pairing`): they print figures, not verdicts."""
