"""Every file and folder tfnf writes goes through here: written beside the target, renamed into place.

See `safe_write` for the rules (no writing through links, nothing deleted
that tfnf did not write), `write_claims` for the clean-up after a killed write,
`previous_exports` for what a re-export keeps and `training_backups` for
backup folders tfnf may delete.
"""

from tfnf.files.previous_exports import is_previous_export
from tfnf.files.safe_write import save_figure, write_atomically, write_file, write_json
from tfnf.files.training_backups import (
    BACKUP_MARKER,
    backed_up_epochs,
    is_backup_folder,
    make_backup_folder,
    remove_backup_folder,
)

__all__ = [
    "BACKUP_MARKER",
    "backed_up_epochs",
    "is_backup_folder",
    "is_previous_export",
    "make_backup_folder",
    "remove_backup_folder",
    "save_figure",
    "write_atomically",
    "write_file",
    "write_json",
]
