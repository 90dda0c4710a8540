"""The hall's durable memory, and the only package that speaks SQL (enforced by import-linter).

`db.py` is the Store (named methods, one writer); `migrations.py` the schema's versioned steps;
`history.py` reads the tickets for planning (read-only, beside a running hall);
`walcheckpoint.py` keeps the WAL short off the controller's loop; `backup.py` takes the online
snapshot that `onewindow backup` archives.
"""

from .db import Store, saved_config, saved_hall_id, saved_settings
from .migrations import SCHEMA_VERSION, StoreError
from .ratings import ratings_for_export

__all__ = [
    "SCHEMA_VERSION",
    "Store",
    "StoreError",
    "ratings_for_export",
    "saved_config",
    "saved_hall_id",
    "saved_settings",
]
