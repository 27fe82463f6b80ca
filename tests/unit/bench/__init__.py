"""The benchmark runner's own decisions (`bench/run.py`), without running a benchmark."""
