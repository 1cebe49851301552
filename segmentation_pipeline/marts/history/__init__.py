"""Segment history and migrations across runs."""
