"""Segment economics and the service queue: value, cost to serve, priority."""
