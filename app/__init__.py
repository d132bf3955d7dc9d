"""Qt application shell: entry point, CLI, main window, workers, crash handling."""
