"""Exceptions raised by pysimbias for bad input and damaged run directories."""


class InvalidParameterError(ValueError):
    """A parameter is out of range or malformed.

    Parameters
    ----------
    param : str
        Name of the offending parameter as the Python API spells it
        (the command line shows it as ``--param-name``).
    message : str
        What is wrong and what would be accepted.
    """

    def __init__(self, param, message):
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


class RunDirectoryError(RuntimeError):
    """A run directory is missing, foreign, incomplete or damaged."""
