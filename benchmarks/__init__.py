"""Benchmark scripts: they print figures (medians over runs, peak memory); `make bench` runs them all."""
