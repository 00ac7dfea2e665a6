"""The pysimbias version (recorded in every manifest and progress file)."""

__version__ = "0.5.1"
