"""Jobs: a serialisable spec, an SQLite store, a manager that runs each job in a child process."""
