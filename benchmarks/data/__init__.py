"""Data generators for benchmark runs: deterministic from a seed, fast (COPY on PostgreSQL)."""
