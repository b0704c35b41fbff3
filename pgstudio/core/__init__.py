"""Qt-free core: networks, losses, schedule, data, run folder, checkpoints, metrics, trainer."""
