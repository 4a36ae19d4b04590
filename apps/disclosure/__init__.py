"""The disclosure check: finds what in a text could identify a child before it is published.

The public interface is ``apps.disclosure.engine``: ``scan``, ``scan_many``, ``Hit``,
``HIT_TYPES`` and ``type_label``; the command ``disclosure_check`` runs it over JSON lines.
"""

import logging

# presidio logs every analysis, and the device it runs on, at INFO (as JSON lines here, one
# per section scanned); quieten it before anything imports it. Its warnings still show.
_presidio = logging.getLogger("presidio-analyzer")
if _presidio.level == logging.NOTSET:
    _presidio.setLevel(logging.WARNING)
