"""One error type for every bad calibration source; the message says what to change."""


class DatasetError(ValueError):
    """A calibration source that cannot be used, with a one-line reason and the fix."""
