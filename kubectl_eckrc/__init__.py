"""kubectl eckrc: diagnose and repair remote-cluster links between two ECK environments."""

__version__ = "0.1.0"
