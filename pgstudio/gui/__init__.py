"""Qt side of pgstudio: thin views over the Qt-free core."""
import pyqtgraph as _pg

# one look for every plot, set before any plot widget exists
_pg.setConfigOptions(antialias=False, background="w", foreground="k", imageAxisOrder="row-major")
