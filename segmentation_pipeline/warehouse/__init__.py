"""The DuckDB warehouse: connections, SQL files, transactions, the run lock."""
