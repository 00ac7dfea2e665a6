"""pysimbias: simplicity bias of random networks and other priors on Boolean inputs."""

__version__ = "0.1.0"
