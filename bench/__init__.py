"""Benchmarks: the load generator, the floor server and the runner (python -m bench)."""
