"""reliefops: the information system of a humanitarian relief operation."""

__version__ = "0.1.0"
