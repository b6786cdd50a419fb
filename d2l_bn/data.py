"""Fashion-MNIST from the original idx files: locate, fetch, verify, parse, batch.

Nothing here imports a deep-learning framework; the backends turn the numpy arrays
produced here into their own tensors.

Where the four files are looked for, in order (the first folder holding all four wins):

1. ``$D2L_BN_DATA`` (if set),
2. the user cache, ``platformdirs.user_cache_dir("d2l_bn")/fashion-mnist``,
3. ``/usr/share/datasets/fashion-mnist`` (Debian package ``dataset-fashion-mnist``),

otherwise the official files are downloaded into ``$D2L_BN_DATA`` or the user cache.
Redistributors recompress the ``.gz`` files, so what is verified is the SHA-256 and
size of the *decompressed* payload.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SMOKE_ENV = "D2L_BN_SMOKE"
DATA_ENV = "D2L_BN_DATA"
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

TEXT_LABELS = ("t-shirt", "trouser", "pullover", "dress", "coat",
               "sandal", "shirt", "sneaker", "bag", "ankle boot")

# Smoke mode keeps this many examples of each split (and one epoch).
SMOKE_TRAIN, SMOKE_VAL = 1024, 512

REMEDY = (
    "Install the Debian package `dataset-fashion-mnist` (it puts the files in "
    f"{SYSTEM_DIR}), or set {DATA_ENV} to a folder holding the four official .gz "
    "files, or delete the file so that it is downloaded again."
)


class DatasetError(RuntimeError):
    """A data file is missing, truncated or corrupt; the message says which and what to do."""


def smoke_mode() -> bool:
    """True when ``D2L_BN_SMOKE`` asks for tiny training runs (for CI and nbval)."""
    return os.environ.get(SMOKE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def cache_dir() -> Path:
    """The per-user cache folder for the data set (created on demand)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("d2l_bn")) / "fashion-mnist"


def candidate_dirs() -> list[Path]:
    """Folders searched for the four files, in order of preference."""
    dirs = [Path(os.environ[DATA_ENV])] if os.environ.get(DATA_ENV) else []
    return dirs + [cache_dir(), SYSTEM_DIR]


def _find_file(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def locate(fetch: bool = True, base_url: str = OFFICIAL_URL) -> dict[str, Path]:
    """Return the path of each of the four files, downloading them if allowed and needed."""
    for folder in candidate_dirs():
        found = {name: _find_file(folder, name) for name in FASHION_MNIST_FILES}
        if all(found.values()):
            return found
    if not fetch:
        raise DatasetError(
            "Fashion-MNIST not found in any of "
            f"{', '.join(str(d) for d in candidate_dirs())}. {REMEDY}")
    target = candidate_dirs()[0]
    return {name: download(name, target, base_url) for name in FASHION_MNIST_FILES}


def download(name: str, folder: Path, base_url: str = OFFICIAL_URL) -> Path:
    """Download ``name.gz`` into ``folder`` and verify its payload; no file is left on failure."""
    import pooch

    folder.mkdir(parents=True, exist_ok=True)
    url = base_url.rstrip("/") + f"/{name}.gz"
    # pooch writes to a temporary file and renames it only after a complete download.
    # The compressed file's hash differs between mirrors, so it is not pinned here;
    # the decompressed payload is checked right after.
    try:
        path = Path(pooch.retrieve(url, known_hash=None, fname=f"{name}.gz",
                                   path=folder, progressbar=False))
    except Exception as err:
        raise DatasetError(f"Could not download {url} into {folder}: {err}. {REMEDY}") from err
    try:
        read_verified(path)
    except DatasetError:
        path.unlink(missing_ok=True)
        raise
    return path


def read_verified(path: Path, name: str | None = None) -> bytes:
    """Decompressed bytes of ``path``, checked against the known size and SHA-256."""
    path = Path(path)
    name = name or path.name.removesuffix(".gz")
    if name not in FASHION_MNIST_FILES:
        raise DatasetError(f"{path}: unknown file name {name!r}; expected one of "
                           f"{sorted(FASHION_MNIST_FILES)}.")
    if not path.is_file():
        raise DatasetError(f"{path}: file is missing. {REMEDY}")
    try:
        payload = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" \
            else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DatasetError(f"{path}: cannot be decompressed ({err}). {REMEDY}") from err
    sha256, size = FASHION_MNIST_FILES[name]
    if len(payload) != size:
        raise DatasetError(f"{path}: decompressed size is {len(payload)} bytes, expected "
                           f"{size} (truncated or wrong file). {REMEDY}")
    digest = hashlib.sha256(payload).hexdigest()
    if digest != sha256:
        raise DatasetError(f"{path}: SHA-256 of the decompressed data is {digest}, "
                           f"expected {sha256} (corrupt file). {REMEDY}")
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
    seconds: float  # time spent locating, decompressing, verifying and parsing


def load_arrays(fetch: bool = True) -> FashionMNISTArrays:
    """Load all 70,000 images and labels, verified, as numpy arrays."""
    start = time.perf_counter()
    paths = locate(fetch=fetch)
    arrays = {name: parse_idx(read_verified(path, name), str(path))
              for name, path in paths.items()}
    return FashionMNISTArrays(
        arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"],
        arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"],
        time.perf_counter() - start)


def _interpolation_matrix(size_in: int, size_out: int) -> np.ndarray:
    """(size_out, size_in) weights of 1-D linear interpolation with aligned pixel centres."""
    centres = (np.arange(size_out) + 0.5) * size_in / size_out - 0.5
    centres = np.clip(centres, 0, size_in - 1)
    low = np.floor(centres).astype(int)
    high = np.minimum(low + 1, size_in - 1)
    frac = centres - low
    weights = np.zeros((size_out, size_in), np.float32)
    weights[np.arange(size_out), low] += 1 - frac
    weights[np.arange(size_out), high] += frac
    return weights


def resize_images(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinearly resize (N, H, W) float images to (N, *size) with two matrix products."""
    rows = _interpolation_matrix(images.shape[1], size[0])
    cols = _interpolation_matrix(images.shape[2], size[1])
    return np.einsum("ih,nhw,jw->nij", rows, images, cols, optimize=True).astype(np.float32)


def gather(array: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Rows ``idx`` of ``array`` as a new C-ordered array with canonical strides.

    ``array[idx]`` is C-contiguous too, but numpy gives its size-1 channel axis a stride
    of one element, so an (N, 1, H, W) batch also looks channels-last. PyTorch then
    picks its channels-last kernels for the whole network; on the CPU its batch norm is
    then over ten times slower, a LeNet SGD step 2 to 2.5 times slower (``python -m
    benchmarks`` measures both) and the chapter's training loop three times slower.
    ``np.take`` gives the strides of a fresh array.
    """
    return np.take(array, idx, axis=0)


class FashionMNISTBase:
    """Framework-free part of ``FashionMNIST``: arrays, smoke subset, shuffling, batching.

    A backend subclasses it and sets ``channels_last`` and ``to_tensor``.
    """

    channels_last = False

    def __init__(self, batch_size: int = 64, resize: tuple[int, int] | None = None):
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}.")
        self.batch_size = batch_size
        self.resize = tuple(resize) if resize else None
        raw = load_arrays()
        self.load_seconds = raw.seconds
        train = (raw.train_images, raw.train_labels)
        val = (raw.val_images, raw.val_labels)
        if smoke_mode():
            train = (train[0][:SMOKE_TRAIN], train[1][:SMOKE_TRAIN])
            val = (val[0][:SMOKE_VAL], val[1][:SMOKE_VAL])
        self.train_X, self.train_y = self._prepare(*train)
        self.val_X, self.val_y = self._prepare(*val)

    def _prepare(self, images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (N, 28, 28) -> float32 in [0, 1], resized, with a channel axis."""
        X = images.astype(np.float32) / 255.0
        if self.resize:
            X = resize_images(X, self.resize)
        X = X[..., None] if self.channels_last else X[:, None]
        return np.ascontiguousarray(X), labels.astype(np.int64)

    @property
    def num_train(self) -> int:
        return len(self.train_y)

    @property
    def num_val(self) -> int:
        return len(self.val_y)

    def to_tensor(self, array: np.ndarray):
        """Turn a numpy batch into the framework's tensor (set by each backend)."""
        raise NotImplementedError

    def _batches(self, X: np.ndarray, y: np.ndarray, shuffle: bool):
        # A fresh permutation per call = shuffled per example every epoch.
        order = np.random.permutation(len(y)) if shuffle else np.arange(len(y))
        for start in range(0, len(y), self.batch_size):
            idx = order[start:start + self.batch_size]
            yield self.to_tensor(gather(X, idx)), self.to_tensor(gather(y, idx))

    def train_dataloader(self):
        """Minibatches of the training split, reshuffled at every call."""
        return self._batches(self.train_X, self.train_y, shuffle=True)

    def val_dataloader(self):
        """Minibatches of the validation split, in file order."""
        return self._batches(self.val_X, self.val_y, shuffle=False)

    def text_labels(self, indices) -> list[str]:
        """Class names for integer labels."""
        return [TEXT_LABELS[int(i)] for i in np.asarray(indices).ravel()]

    def __repr__(self) -> str:
        layout = "NHWC" if self.channels_last else "NCHW"
        return (f"{type(self).__name__}(train={self.num_train}, val={self.num_val}, "
                f"batch_size={self.batch_size}, image={self.train_X.shape[1:]} {layout})")
