"""Download the Fashion-MNIST files that ``d2l_bn.data.locate`` did not find (with pooch).

Imported only when a file is missing. A failed download leaves nothing behind: no file,
no partial file, no folder it created.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from .data import GET_DATA, OFFICIAL_URL, DatasetError, read_verified
from .settings import DATA_ENV

DOWNLOAD_RETRIES = 2  # pooch tries a failed download again this many times


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first; one that is not empty is in use: kept
        with contextlib.suppress(OSError):
            folder.rmdir()


def _make_folder(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return those it created, deepest first.

    Another process may create the same folders at the same moment (``exist_ok``). On
    failure the folders this call created are removed again.
    """
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        _remove_empty(created)
        blocker = next((p for p in (folder, *folder.parents) if p.is_file()), None)
        what = (f"{blocker} is a file, not a folder" if blocker else
                f"{err.filename or folder} cannot be created ({err.strerror or err})")
        raise DatasetError(f"Cannot download Fashion-MNIST into {folder}: {what}. Set "
                           f"{DATA_ENV} to a folder you can write to (it is created if "
                           f"needed). {GET_DATA}") from err
    return created


def _fetch(base_url: str, folder: Path, file_name: str) -> None:
    """Download ``base_url/file_name`` into ``folder`` with pooch: retries, and a
    temporary file renamed only once complete. No hash of the ``.gz`` (it differs between
    mirrors: ``read_verified`` checks the payload); pooch's stderr log is silenced."""
    import pooch  # here, not at the top: reading files that are there needs no pooch

    fetcher = pooch.create(path=folder, base_url=base_url.rstrip("/") + "/",
                           registry={file_name: None}, retry_if_failed=DOWNLOAD_RETRIES)
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        fetcher.fetch(file_name, progressbar=False)
    finally:
        logger.setLevel(level)


def download(name: str, folder: Path, base_url: str = OFFICIAL_URL) -> Path:
    """Download ``name.gz`` into ``folder`` and verify its payload.

    Nothing is left behind on failure: a file that fails verification is deleted, and
    so are the folders this call created.
    """
    folder = Path(folder).absolute()
    created = _make_folder(folder)
    url = f"{base_url.rstrip('/')}/{name}.gz"
    path = folder / f"{name}.gz"
    try:
        try:
            _fetch(base_url, folder, path.name)
        except Exception as err:
            raise DatasetError(f"Could not download {url} into {folder}: {err}. "
                               f"{GET_DATA}") from err
        # The temporary file is private (mode 0600); a shared cache must be readable by
        # everyone the umask allows, like any other file the user creates.
        umask = os.umask(0)
        os.umask(umask)
        path.chmod(0o666 & ~umask)
        read_verified(path, name, remedy=f"The download from {url} was deleted; try "
                                         f"again later, or get the data another way. "
                                         f"{GET_DATA}")
    except BaseException:
        path.unlink(missing_ok=True)
        _remove_empty(created)
        raise
    return path
