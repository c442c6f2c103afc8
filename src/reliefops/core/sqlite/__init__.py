"""Django's SQLite backend, with a new database file readable by its owner alone (see `base`)."""
