"""Qt-free core: model families, training, data, storage (the run folder) and analysis; the
README's Layout section is the map."""
