"""The operator's homologated phones: catalog data, firmware versions, compliance.

Pure: no I/O except reading the packaged data file. Knows nothing of provisioner.
"""

from firmware_catalog.entry import CatalogEntry

__all__ = ["CatalogEntry"]
