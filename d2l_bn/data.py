"""Fashion-MNIST from the original idx files: locate, verify, parse, batch.

The first of ``$D2L_BN_DATA``, the user cache and ``/usr/share/datasets/fashion-mnist``
(Debian's ``dataset-fashion-mnist``) holding all four files wins; otherwise
``d2l_bn.fetch`` downloads them. Every load checks the SHA-256 and size of the
*decompressed* payload (mirrors recompress the ``.gz`` files). Every problem is a
``DatasetError`` naming the file, what was expected and what to do.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .settings import DATA_ENV, SMOKE_TRAIN, SMOKE_VAL, check_positive_int, smoke_mode

SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
OFFICIAL_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

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
    """The path of each of the four files; with ``fetch``, those missing from
    ``download_dir()`` are downloaded there when no folder holds all four."""
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
    from .fetch import download  # only when a file is missing

    target = download_dir()
    present, _ = _scan(target)
    return {name: present.get(name) or download(name, target, base_url)
            for name in FASHION_MNIST_FILES}


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


EVALUATE_ON = ("test", "validation")
VALIDATION_SIZE = 10_000  # the last 10,000 training images, when held out


class FashionMNISTBase:
    """Framework-free part of ``FashionMNIST`` (a backend sets ``channels_last`` and
    ``to_tensor``). ``evaluate_on``: ``"test"`` (the official 10,000) or
    ``"validation"`` (the last 10,000 training images, held out); ``train_size`` keeps
    the first that many training images. Training batches are reshuffled every epoch; a
    lone last example (it cannot be batch-normalized) joins the batch before it.
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
            # np.take, not X[idx]: that gives an (N, 1, H, W) batch a channel stride of
            # 1, which PyTorch takes for channels-last (batch norm ten times slower).
            idx = order[start:stop]
            yield (self.to_tensor(np.take(X, idx, axis=0)),
                   self.to_tensor(np.take(y, idx, axis=0)))

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
