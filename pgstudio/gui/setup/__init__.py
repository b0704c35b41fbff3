"""The run form: every setting of a new run, its schedule preview and duration estimate."""
