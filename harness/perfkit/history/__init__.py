"""The history of runs (store.py: the seam; sqlite_store.py, jsonl_store.py:
its backends), each metric's series through it (trend.py) and the change
points in a series (changepoints.py)."""
