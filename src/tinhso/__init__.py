"""Tỉnh Số: an open-source digital-government platform for Vietnamese provinces."""

__version__ = "0.1.0"
