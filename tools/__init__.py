"""Command line and application layer of cosmot: file I/O, detectors, evaluation, benchmarks."""
