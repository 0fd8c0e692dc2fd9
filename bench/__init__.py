"""Benchmarks (``make bench``): run ``bench/bench.py``; see its docstring."""
