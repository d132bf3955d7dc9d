"""Calibration data: named hub datasets, local files and folders, sampling, preview statistics."""
