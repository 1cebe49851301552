"""Mart builders: pure logic that turns models into the tables BI tools read."""
