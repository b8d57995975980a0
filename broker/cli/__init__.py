"""The ``camgate`` console script."""
