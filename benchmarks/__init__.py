"""Yiwang's benchmark harness: `make bench` (PostgreSQL) and `make bench-quick` (SQLite smoke).

See docs/performance.md.
"""
