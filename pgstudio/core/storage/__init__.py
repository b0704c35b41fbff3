"""The run folder and everything written to disk: checkpoints, typed records, locks, atomic writes."""
