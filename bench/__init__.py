"""Benchmarks for SoSocial (not part of the test suite): `make bench` or `python -m bench --help`.

Each benchmark prints its figures and rewrites its own section of docs/benchmarks.md.
"""
