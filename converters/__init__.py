"""Converters: one folder per source format, each a NeuroConv ``BaseDataInterface``.

The source kinds a conversion spec can name, and the class behind each, are listed in
``nwbmotor.conversion._registry.SOURCE_KINDS``.
"""
