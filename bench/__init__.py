"""The benchmark: how close the workshop's order workflow comes to what the engine allows.

`make bench` (or `python -m bench`) starts its own dev servers, measures, prints a table and
writes `bench/results.json`. See the README's Benchmark section for the figures.
"""
