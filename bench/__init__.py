"""Benchmarks: regbot measured side by side with the bare frameworks, as ratios (SPEC §9).

`python -m bench` (``make bench``) runs all of them, bounded, on loopback only, and writes RESULTS.md;
``--soak`` also runs the reliability tests large and adds their figures.
"""
