"""The Checkpoints page: every checkpoint of a run, scored, compared, resumed or branched."""
