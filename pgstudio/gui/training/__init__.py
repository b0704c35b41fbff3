"""The Training page: live curves, sample grids, pause/stop/resume, exports of a run."""
