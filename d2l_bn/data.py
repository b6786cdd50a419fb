"""Fashion-MNIST from the original idx files: locate, fetch, verify, parse, batch.

The four files are looked for in ``$D2L_BN_DATA``, the user cache, then
``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``); the first
folder holding all four wins (a warning says which when ``$D2L_BN_DATA`` is set but
incomplete). Otherwise pooch downloads them into ``$D2L_BN_DATA`` or the user cache.
What is verified, at every load, is the SHA-256 and size of the *decompressed* payload
(redistributors recompress the ``.gz`` files). Every problem is a ``DatasetError``
naming the file, what was expected and what to do; a failed download leaves nothing
behind (no file, no partial file, no folder it created).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import os
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .settings import DATA_ENV, SMOKE_TRAIN, SMOKE_VAL, check_positive_int, smoke_mode

SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
OFFICIAL_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
DOWNLOAD_RETRIES = 2  # pooch tries a failed download again this many times

# name -> (SHA-256 of the decompressed file, its size in bytes)
FASHION_MNIST_FILES = {
    "train-images-idx3-ubyte": (
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 47040016),
    "train-labels-idx1-ubyte": (
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 60008),
    "t10k-images-idx3-ubyte": (
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 7840016),
    "t10k-labels-idx1-ubyte": (
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 10008),
}

GET_DATA = (
    "To get the data: install the Debian package `dataset-fashion-mnist` (it puts the "
    f"files in {SYSTEM_DIR}), or set {DATA_ENV} to a folder holding the four official "
    f"files ({', '.join(f'{n}.gz' for n in FASHION_MNIST_FILES)}), or let d2l_bn "
    f"download them from {OFFICIAL_URL} (needs internet access and `pip install pooch`).")


class DatasetError(RuntimeError):
    """A data file is missing, truncated or corrupt; the message says which and what to do."""


def cache_dir() -> Path:
    """The per-user cache folder for the data set (created on demand)."""
    try:
        import platformdirs
    except ImportError:  # optional: the single-file notebooks run without it
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "d2l_bn"
    else:
        base = Path(platformdirs.user_cache_dir("d2l_bn"))
    return base / "fashion-mnist"


def env_dir() -> Path | None:
    """``$D2L_BN_DATA`` as an absolute path (None when unset)."""
    value = os.environ.get(DATA_ENV, "").strip()
    return Path(value).expanduser().absolute() if value else None


def candidate_dirs() -> list[Path]:
    """Folders searched for the four files, in order of preference."""
    first = env_dir()
    return ([first] if first else []) + [cache_dir(), SYSTEM_DIR]


def download_dir() -> Path:
    """Where missing files are downloaded: ``$D2L_BN_DATA`` if set, else the user cache."""
    return env_dir() or cache_dir()


def _find_file(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():  # raises PermissionError for a folder we cannot enter
            return candidate
    return None


def _scan(folder: Path) -> tuple[dict[str, Path], str]:
    """The files present in ``folder``, and why the others are not usable ('' if none)."""
    try:
        if not folder.exists():
            return {}, "does not exist"
        if not folder.is_dir():
            return {}, "is not a folder"
        found = {name: path for name in FASHION_MNIST_FILES
                 if (path := _find_file(folder, name))}
    except PermissionError:
        return {}, "cannot be searched (permission denied)"
    missing = [name for name in FASHION_MNIST_FILES if name not in found]
    if not missing:
        return found, ""
    return found, ("holds none of the four files" if not found
                   else f"lacks {', '.join(missing)}")


def locate(fetch: bool = True, base_url: str = OFFICIAL_URL) -> dict[str, Path]:
    """Return the path of each of the four files, downloading them if allowed and needed.

    The first searched folder that holds all four wins. Otherwise, with ``fetch``, the
    files missing from the download folder (``download_dir()``) are downloaded there.
    """
    searched = []
    for folder in candidate_dirs():
        found, problem = _scan(folder)
        if not problem:
            env = env_dir()
            if env and folder != env:  # Python shows the same warning once per session
                warnings.warn(f"{DATA_ENV}={env} {dict(searched)[env]}; using the four "
                              f"Fashion-MNIST files in {folder} instead.", stacklevel=2)
            return found
        searched.append((folder, problem))
    report = "; ".join(f"{folder} {problem}" for folder, problem in searched)
    if not fetch:
        raise DatasetError(f"Fashion-MNIST not found (downloading is switched off): "
                           f"{report}. {GET_DATA}")
    target = download_dir()
    present, _ = _scan(target)
    return {name: present.get(name) or download(name, target, base_url)
            for name in FASHION_MNIST_FILES}


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


def _remedy(path: Path) -> str:
    """What to do about a bad data file, depending on where it lives."""
    if path.parent == SYSTEM_DIR:
        return ("Reinstall the Debian package: `apt-get install --reinstall "
                "dataset-fashion-mnist`.")
    if path.parent == download_dir():
        return f"Delete {path}; the next load downloads it again."
    return (f"Replace it with the official file ({OFFICIAL_URL}{path.name}) or delete "
            f"it. {GET_DATA}")


def read_verified(path: Path, name: str | None = None, remedy: str | None = None) -> bytes:
    """Decompressed bytes of ``path``, checked against the known size and SHA-256."""
    path = Path(path)
    name = name or path.name.removesuffix(".gz")
    if name not in FASHION_MNIST_FILES:
        raise DatasetError(f"{path}: unknown file name {name!r}; expected one of "
                           f"{sorted(FASHION_MNIST_FILES)}.")
    remedy = remedy or _remedy(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as err:
        raise DatasetError(f"{path}: file is missing. {GET_DATA}") from err
    except PermissionError as err:
        raise DatasetError(f"{path}: cannot be read (permission denied). Make it readable "
                           f"(`chmod a+r {path}`), or set {DATA_ENV} to a folder of your "
                           f"own holding the four files.") from err
    except OSError as err:
        raise DatasetError(f"{path}: cannot be read ({err}). {remedy}") from err
    try:
        payload = gzip.decompress(raw) if path.suffix == ".gz" else raw
    except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        raise DatasetError(f"{path}: cannot be decompressed ({err}); the file is damaged. "
                           f"{remedy}") from err
    sha256, size = FASHION_MNIST_FILES[name]
    if len(payload) != size:
        raise DatasetError(f"{path}: decompressed size is {len(payload)} bytes, expected "
                           f"{size} (truncated or wrong file). {remedy}")
    digest = hashlib.sha256(payload).hexdigest()
    if digest != sha256:
        raise DatasetError(f"{path}: SHA-256 of the decompressed data is {digest}, "
                           f"expected {sha256} (corrupt file). {remedy}")
    return payload


def parse_idx(payload: bytes, source: str = "<bytes>") -> np.ndarray:
    """Parse an idx file (big-endian header, unsigned bytes) into a read-only uint8 array."""
    # Header: two zero bytes, a type code (0x08 = unsigned byte), the number of
    # dimensions, then one big-endian int32 per dimension.
    if len(payload) < 4 or payload[0] != 0 or payload[1] != 0 or payload[2] != 0x08:
        raise DatasetError(f"{source}: not an idx file of unsigned bytes "
                           f"(magic number {payload[:4].hex() or 'missing'}, expected 0000 08 nn).")
    ndim = payload[3]
    header = 4 + 4 * ndim
    if len(payload) < header:
        raise DatasetError(f"{source}: truncated header ({len(payload)} bytes for {ndim} dims).")
    shape = tuple(int(d) for d in np.frombuffer(payload, ">i4", count=ndim, offset=4))
    expected = header + int(np.prod(shape))
    if len(payload) != expected:
        raise DatasetError(f"{source}: {len(payload)} bytes, but its header {shape} needs "
                           f"{expected} (truncated or padded file).")
    return np.frombuffer(payload, np.uint8, offset=header).reshape(shape)


@dataclass(frozen=True)
class FashionMNISTArrays:
    """The four arrays of the data set: images (N, 28, 28) uint8 and labels (N,) uint8."""

    train_images: np.ndarray
    train_labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray


def load_arrays(fetch: bool = True) -> FashionMNISTArrays:
    """Load all 70,000 images and labels, verified, as numpy arrays."""
    arrays = {name: parse_idx(read_verified(path, name), str(path))
              for name, path in locate(fetch=fetch).items()}
    return FashionMNISTArrays(*arrays.values())  # in the order of FASHION_MNIST_FILES


def gather(array: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Rows ``idx`` of ``array`` with the strides of a fresh array. (``array[idx]`` gives
    an (N, 1, H, W) batch a channel stride of 1, which PyTorch takes for channels-last
    and answers with batch-norm kernels ten times slower on the CPU.)"""
    return np.take(array, idx, axis=0)


EVALUATE_ON = ("test", "validation")
VALIDATION_SIZE = 10_000  # the last 10,000 training images, when held out


class FashionMNISTBase:
    """Framework-free part of ``FashionMNIST``: arrays, splits, shuffling, batching.

    ``evaluate_on``: ``"test"`` (the 10,000 official test images; training uses all
    60,000) or ``"validation"`` (the last 10,000 training images, held out). Training
    batches are reshuffled every epoch; a lone last example (it cannot be
    batch-normalized) joins the batch before it. ``train_size`` keeps only the first
    that many training images (for experiments with a fixed number of steps). A backend
    sets ``channels_last`` and ``to_tensor``.
    """

    channels_last = False

    def __init__(self, batch_size: int = 64, evaluate_on: str = "test",
                 train_size: int | None = None):
        self.batch_size = check_positive_int(batch_size, "batch_size")
        if train_size is not None:
            check_positive_int(train_size, "train_size")
        if evaluate_on not in EVALUATE_ON:
            raise ValueError(f"evaluate_on must be 'test' (the official test images) or "
                             f"'validation' (the last {VALIDATION_SIZE:,} training images), "
                             f"got {evaluate_on!r}.")
        self.evaluate_on = evaluate_on
        raw = load_arrays()
        train = (raw.train_images, raw.train_labels)
        val = (raw.val_images, raw.val_labels)
        if evaluate_on == "validation":
            cut = len(train[1]) - VALIDATION_SIZE
            train, val = (train[0][:cut], train[1][:cut]), (train[0][cut:], train[1][cut:])
        if train_size is not None:
            if train_size > len(train[1]):
                raise ValueError(f"train_size={train_size:,} is more than the "
                                 f"{len(train[1]):,} training images of this split; pass "
                                 f"at most {len(train[1]):,}, or None for all of them.")
            train = (train[0][:train_size], train[1][:train_size])
        if smoke_mode():
            train = (train[0][:SMOKE_TRAIN], train[1][:SMOKE_TRAIN])
            val = (val[0][:SMOKE_VAL], val[1][:SMOKE_VAL])
        self.train_X, self.train_y = self._prepare(*train)
        self.val_X, self.val_y = self._prepare(*val)

    def _prepare(self, images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (N, 28, 28) -> float32 in [0, 1] with a channel axis; int64 labels."""
        X = images.astype(np.float32) / 255.0
        X = X[..., None] if self.channels_last else X[:, None]
        return np.ascontiguousarray(X), labels.astype(np.int64)

    @property
    def num_train(self) -> int:
        return len(self.train_y)

    @property
    def num_val(self) -> int:
        return len(self.val_y)

    @property
    def num_train_batches(self) -> int:
        """Training batches per epoch (a remainder of one example joins the last batch)."""
        return len(self._bounds(self.num_train, train=True))

    def _bounds(self, n: int, train: bool) -> list[tuple[int, int]]:
        starts = list(range(0, n, self.batch_size))
        if train and len(starts) > 1 and n - starts[-1] == 1:
            starts.pop()  # a lone last example joins the batch before it
        return list(zip(starts, [*starts[1:], n]))

    def to_tensor(self, array: np.ndarray):
        """Turn a numpy batch into the framework's tensor (set by each backend)."""
        raise NotImplementedError

    def _batches(self, X: np.ndarray, y: np.ndarray, train: bool):
        # A fresh permutation per call = shuffled per example every epoch.
        order = np.random.permutation(len(y)) if train else np.arange(len(y))
        for start, stop in self._bounds(len(y), train):
            idx = order[start:stop]
            yield self.to_tensor(gather(X, idx)), self.to_tensor(gather(y, idx))

    def train_dataloader(self):
        """Minibatches of the training split, reshuffled at every call."""
        return self._batches(self.train_X, self.train_y, train=True)

    def val_dataloader(self):
        """Minibatches of the evaluation split (validation or test), in file order."""
        return self._batches(self.val_X, self.val_y, train=False)

    def __repr__(self) -> str:
        layout = "NHWC" if self.channels_last else "NCHW"
        return (f"{type(self).__name__}(train={self.num_train}, {self.evaluate_on}="
                f"{self.num_val}, batch_size={self.batch_size}, "
                f"image={self.train_X.shape[1:]} {layout})")
