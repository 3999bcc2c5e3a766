"""mllint: static analysis for machine-learning codebases."""

__version__ = "0.1.0"
