"""Seeded synthetic data for tests and benchmarks: ``synthetic_scene`` (detections of people
walking, with embeddings) and ``synthetic_video`` (rendered frames with ground truth).

Installed so that ``python -m cosmot.testing.synthetic_video`` and the benchmark scripts can use
it, but no library or application module imports it (tests/test_package.py)."""
