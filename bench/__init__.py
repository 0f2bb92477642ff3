"""Benchmarks, one command each; the figures and the commands are in docs/benchmarks.md."""
