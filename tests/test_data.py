"""Fashion-MNIST files: parsing, verification, locating, downloading, and every fault.

Faults are injected into copies of the data (never the installed files), served to
pooch by a local ``http.server`` on 127.0.0.1 (never any other address), or produced with a tiny
tmpfs (a full disk) and a read-only mount. Permission cases need a process without
root's file-permission override: ``unprivileged`` runs them in a subprocess whose
capability bounding set lacks CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (util-linux's
``setpriv``), or as they are when the tests do not run as root.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from d2l_bn import data, fetch

LABELS = "train-labels-idx1-ubyte"
REPO = Path(__file__).resolve().parents[1]


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">i4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def fake_payload() -> bytes:
    return idx_bytes(np.arange(100) % 10)


@pytest.fixture
def fake_files(monkeypatch):
    """Register small, valid idx payloads under the four real names (with checksums)."""
    payloads = {}
    for i, name in enumerate(data.FASHION_MNIST_FILES):
        payload = idx_bytes((np.arange(60 + i) * 7) % 256)
        payloads[name] = payload
        monkeypatch.setitem(data.FASHION_MNIST_FILES, name,
                            (hashlib.sha256(payload).hexdigest(), len(payload)))
    return payloads


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No $D2L_BN_DATA; an empty user cache and system folder under tmp_path; no retries
    of failed downloads (they wait a second or more each; one test checks them)."""
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    cache, system = tmp_path / "user-cache", tmp_path / "system"
    monkeypatch.setattr(data, "cache_dir", lambda: cache)
    monkeypatch.setattr(data, "SYSTEM_DIR", system)
    monkeypatch.setattr(fetch, "DOWNLOAD_RETRIES", 0)
    return cache, system


def write_gz(folder: Path, payloads: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, payload in payloads.items():
        (folder / f"{name}.gz").write_bytes(gzip.compress(payload))


def corrupt_deflate(payload: bytes) -> bytes:
    """A .gz whose header and CRC/size trailer are intact but whose compressed stream is
    broken: zlib, not the gzip header check, notices."""
    good = bytearray(gzip.compress(payload))
    good[10:20] = b"\xff" * 10  # right after the 10-byte header: a bad block type
    return bytes(good)


# --- parsing and verification --------------------------------------------------------

def test_parse_idx_round_trip():
    images = np.random.default_rng(0).integers(0, 256, (5, 3, 4))
    parsed = data.parse_idx(idx_bytes(images))
    assert parsed.shape == (5, 3, 4) and parsed.dtype == np.uint8
    np.testing.assert_array_equal(parsed, images)


@pytest.mark.parametrize("mangle, message", [
    (lambda b: b[:-7], "truncated"),
    (lambda b: b"\x00\x00\x0d\x01" + b[4:], "magic number"),
    (lambda b: b[:6], "truncated header"),
    (lambda b: b"", "magic number missing"),
])
def test_parse_idx_rejects_bad_files(mangle, message):
    with pytest.raises(data.DatasetError, match=message) as err:
        data.parse_idx(mangle(idx_bytes(np.zeros((4, 2, 2)))), "some/file")
    assert "some/file" in str(err.value)


@pytest.mark.parametrize("kind, says", [
    ("truncated", "expected"), ("checksum", "SHA-256"), ("not gzip", "decompress"),
    ("empty", "decompress"), ("corrupt stream", "decompress"), ("missing", "missing")])
def test_verified_read_names_file_and_remedy(fake_files, isolated, tmp_path, kind, says):
    payload = fake_files[LABELS]
    path = tmp_path / "elsewhere" / f"{LABELS}.gz"
    path.parent.mkdir()
    path.write_bytes({"truncated": gzip.compress(payload[:-10]),
                      "checksum": gzip.compress(payload[:-1] + b"\x07"),
                      "not gzip": b"this is not gzip data", "empty": b"",
                      "corrupt stream": corrupt_deflate(payload),
                      "missing": b""}[kind])
    if kind == "missing":
        path.unlink()
    with pytest.raises(data.DatasetError) as err:
        data.read_verified(path)
    message = str(err.value)
    assert str(path) in message and says in message
    assert "dataset-fashion-mnist" in message  # how to get good data


def test_remedy_depends_on_where_the_bad_file_lives(fake_files, isolated, monkeypatch):
    cache, system = isolated
    for folder, advice in [(cache, "the next load downloads it again"),
                           (system, "apt-get install --reinstall dataset-fashion-mnist")]:
        folder.mkdir()
        path = folder / f"{LABELS}.gz"
        path.write_bytes(corrupt_deflate(fake_files[LABELS]))
        with pytest.raises(data.DatasetError, match="reinstall|downloads it again") as err:
            data.read_verified(path)
        assert advice in str(err.value)
        assert ("Delete" in str(err.value)) == (folder == cache)


# --- locating --------------------------------------------------------------------------

def test_search_order_prefers_env_folder(monkeypatch, fake_files, isolated, tmp_path):
    cache, system = isolated
    env = tmp_path / "mine"
    for folder in (env, cache, system):
        write_gz(folder, fake_files)
    monkeypatch.setenv(data.DATA_ENV, str(env))
    assert data.candidate_dirs() == [env, cache, system]
    assert set(data.locate(fetch=False).values()) == {
        env / f"{n}.gz" for n in data.FASHION_MNIST_FILES}


def test_relative_env_folder_is_made_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(data.DATA_ENV, "some/rel")
    assert data.env_dir() == tmp_path / "some" / "rel"


def test_incomplete_env_folder_is_reported_once(monkeypatch, fake_files, isolated, tmp_path):
    _, system = isolated
    write_gz(system, fake_files)
    env = tmp_path / "mine"
    write_gz(env, {LABELS: fake_files[LABELS]})
    monkeypatch.setenv(data.DATA_ENV, str(env))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # Python's own: a message once per place
        for _ in range(2):  # as FashionMNIST loads the data: through load_arrays
            data.load_arrays(fetch=False)
        found = data.locate(fetch=False)
    assert found[LABELS] == system / f"{LABELS}.gz"
    notes = [w for w in caught if str(w.message).startswith(f"{data.DATA_ENV}=")]
    assert len(notes) == 2 and notes[0].filename == data.__file__  # once per place
    text = str(notes[0].message)
    assert str(env) in text and "t10k-images-idx3-ubyte" in text and str(system) in text


def test_not_found_without_fetch_names_folders_and_files(monkeypatch, isolated, tmp_path):
    env = tmp_path / "mine"
    env.mkdir()
    (env / f"{LABELS}.gz").write_bytes(b"x")
    monkeypatch.setenv(data.DATA_ENV, str(env))
    with pytest.raises(data.DatasetError, match="downloading is switched off") as err:
        data.locate(fetch=False)
    message = str(err.value)
    cache, system = isolated
    assert f"{env} lacks train-images-idx3-ubyte" in message
    assert f"{cache} does not exist" in message and f"{system} does not exist" in message
    assert "Delete" not in message and "dataset-fashion-mnist" in message


def test_env_naming_a_file_is_passed_over_for_a_complete_folder(
        monkeypatch, fake_files, isolated, tmp_path):
    _, system = isolated
    write_gz(system, fake_files)
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("hello")
    monkeypatch.setenv(data.DATA_ENV, str(not_a_folder))
    with pytest.warns(UserWarning, match="is not a folder; using the four"):
        assert data.locate(fetch=False)[LABELS] == system / f"{LABELS}.gz"


# --- downloading -----------------------------------------------------------------------

class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; a path listed in ``cut_short`` is sent half and then dropped; the
    first ``fail_first`` requests are answered 503 (a server's bad moment)."""

    cut_short: set[str] = set()
    fail_first = 0
    requests = 0

    def log_message(self, *args):
        pass

    def do_GET(self):
        name = self.path.lstrip("/")
        type(self).requests += 1
        if type(self).requests <= self.fail_first:
            return self.send_error(503)
        if name not in self.cut_short:
            return super().do_GET()
        body = (Path(self.directory) / name).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True


@pytest.fixture
def file_server(tmp_path):
    """Serve a folder over HTTP on 127.0.0.1; yields (folder, base_url, handler class)."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = type("H", (Handler,), {"cut_short": set()})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_port}/", handler
    server.shutdown()
    server.server_close()


def test_download_of_good_files_is_verified_readable_and_quiet(
        fake_files, isolated, file_server, capfd, caplog):
    folder, url, _ = file_server
    write_gz(folder, fake_files)
    cache, _ = isolated
    old = os.umask(0o022)
    try:
        paths = data.locate(fetch=True, base_url=url)
    finally:
        os.umask(old)
    assert set(paths.values()) == {cache / f"{n}.gz" for n in data.FASHION_MNIST_FILES}
    for name, path in paths.items():
        assert data.read_verified(path) == fake_files[name]
        assert path.stat().st_mode & 0o777 == 0o644  # readable by others sharing a cache
    out, err = capfd.readouterr()
    assert out + err + caplog.text == ""  # pooch's log lines are silenced


def test_a_failed_download_is_tried_again(fake_files, isolated, file_server, monkeypatch):
    folder, url, handler = file_server
    write_gz(folder, {LABELS: fake_files[LABELS]})
    cache, _ = isolated
    handler.fail_first = 1
    with pytest.raises(data.DatasetError, match="503"):  # without retries: an error
        fetch.download(LABELS, cache, url)
    handler.requests = 0
    monkeypatch.setattr(fetch, "DOWNLOAD_RETRIES", 1)
    assert data.read_verified(fetch.download(LABELS, cache, url)) == fake_files[LABELS]
    assert handler.requests == 2


def test_only_missing_files_are_downloaded(fake_files, isolated, file_server, monkeypatch,
                                           tmp_path):
    folder, url, _ = file_server
    write_gz(folder, {LABELS: fake_files[LABELS]})  # the server has only this one
    env = tmp_path / "mine"
    write_gz(env, {n: p for n, p in fake_files.items() if n != LABELS})
    monkeypatch.setenv(data.DATA_ENV, str(env))
    assert data.locate(fetch=True, base_url=url)[LABELS] == env / f"{LABELS}.gz"


@pytest.mark.parametrize("fault", ["checksum", "corrupt stream", "cut short", "404"])
def test_failed_download_leaves_nothing_behind(fake_files, isolated, file_server,
                                               monkeypatch, tmp_path, fault):
    folder, url, handler = file_server
    payload = fake_files[LABELS]
    served = folder / f"{LABELS}.gz"
    if fault == "checksum":
        served.write_bytes(gzip.compress(payload + b"junk"))
    elif fault == "corrupt stream":
        served.write_bytes(corrupt_deflate(payload))
    elif fault == "cut short":
        served.write_bytes(gzip.compress(payload))
        handler.cut_short.add(served.name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(data.DATA_ENV, "new/data")  # relative, and does not exist yet
    with pytest.raises(data.DatasetError) as err:
        fetch.download(LABELS, data.download_dir(), url)
    assert LABELS in str(err.value)
    assert not (tmp_path / "new").exists()  # no file, no partial file, no empty folder


def test_corrupt_download_is_not_kept_so_a_retry_can_succeed(fake_files, isolated,
                                                            file_server):
    folder, url, _ = file_server
    cache, _ = isolated
    served = folder / f"{LABELS}.gz"
    served.write_bytes(corrupt_deflate(fake_files[LABELS]))
    with pytest.raises(data.DatasetError, match="cannot be decompressed"):
        fetch.download(LABELS, cache, url)
    served.write_bytes(gzip.compress(fake_files[LABELS]))
    assert data.read_verified(fetch.download(LABELS, cache, url)) == fake_files[LABELS]


def test_unreachable_server_is_a_clear_error(isolated, tmp_path):
    with pytest.raises(data.DatasetError, match="Could not download") as err:
        fetch.download(LABELS, tmp_path / "cache", "http://127.0.0.1:9/")
    assert "dataset-fashion-mnist" in str(err.value)
    assert not (tmp_path / "cache").exists()


def test_download_without_pooch_says_what_to_install(isolated, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pooch", None)  # import pooch -> ImportError
    with pytest.raises(data.DatasetError, match=r"pooch.*`pip install pooch`") as err:
        fetch.download(LABELS, tmp_path / "cache", "http://127.0.0.1:9/")
    assert "dataset-fashion-mnist" in str(err.value)  # the other ways to get the data
    assert not (tmp_path / "cache").exists()


def test_env_naming_a_file_is_a_clear_error_when_a_download_is_needed(
        fake_files, isolated, file_server, monkeypatch, tmp_path):
    folder, url, _ = file_server
    write_gz(folder, fake_files)
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("hello")
    monkeypatch.setenv(data.DATA_ENV, str(not_a_folder))
    with pytest.raises(data.DatasetError, match="is a file, not a folder") as err:
        data.locate(fetch=True, base_url=url)
    assert data.DATA_ENV in str(err.value)
    assert not_a_folder.read_text() == "hello"


@contextlib.contextmanager
def mounted_tmpfs(path: Path, options: str):
    """A tmpfs mounted at ``path`` (root only); skips the test where mounting fails."""
    path.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                            capture_output=True, text=True)
    if result.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip() or 'not root'})")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def test_full_disk_is_a_clear_error_and_leaves_nothing(isolated, file_server, tmp_path):
    folder, url, _ = file_server
    # Incompressible bytes: the .gz is larger than the 64 KiB file system.
    big = np.random.default_rng(0).integers(0, 256, 200_000).astype(np.uint8).tobytes()
    (folder / f"{LABELS}.gz").write_bytes(gzip.compress(big))
    with mounted_tmpfs(tmp_path / "tiny", "size=64k") as tiny:
        with pytest.raises(data.DatasetError, match="Could not download") as err:
            fetch.download(LABELS, tiny / "cache", url)
        assert "No space left" in str(err.value)
        assert list(tiny.iterdir()) == []


def test_read_only_mount_is_a_clear_error(isolated, file_server, tmp_path):
    _, url, _ = file_server
    with mounted_tmpfs(tmp_path / "ro", "ro,size=64k") as ro:
        with pytest.raises(data.DatasetError, match="cannot be created") as err:
            fetch.download(LABELS, ro / "deep" / "cache", url)
        assert "Read-only file system" in str(err.value) and data.DATA_ENV in str(err.value)


def test_two_processes_downloading_at_once_both_succeed(fake_files, file_server, tmp_path):
    folder, url, _ = file_server
    write_gz(folder, fake_files)
    script = (
        "import json, sys; from d2l_bn import data\n"
        "sums = json.loads(sys.argv[1])\n"
        "data.FASHION_MNIST_FILES.update({k: tuple(v) for k, v in sums.items()})\n"
        f"data.SYSTEM_DIR = data.Path({str(tmp_path / 'none')!r})\n"
        f"data.cache_dir = lambda: data.Path({str(tmp_path / 'none')!r})\n"
        "import warnings; warnings.simplefilter('ignore', UserWarning)\n"
        f"paths = data.locate(fetch=True, base_url={url!r})\n"
        "print(all(data.read_verified(p) for p in paths.values()))\n")
    sums = json.dumps({n: data.FASHION_MNIST_FILES[n] for n in fake_files})
    env = {**os.environ, data.DATA_ENV: str(tmp_path / "shared")}
    procs = [subprocess.Popen([sys.executable, "-c", script, sums], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [out.strip() for out, _ in outputs] == ["True", "True"], outputs


# --- permissions (need a process without root's override) -----------------------------

def unprivileged(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run Python ``code`` without root's file-permission override."""
    prefix = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without util-linux's setpriv: cannot drop "
                        "CAP_DAC_OVERRIDE to test permission errors")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
    return subprocess.run([*prefix, sys.executable, "-c", code], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=60)


PERMISSION_SCRIPT = """
import gzip, hashlib, json, sys, warnings
from pathlib import Path
from d2l_bn import data
payloads = {k: bytes.fromhex(v) for k, v in json.loads(sys.argv[1]).items()}
data.FASHION_MNIST_FILES.update(
    {k: (hashlib.sha256(p).hexdigest(), len(p)) for k, p in payloads.items()})
data.SYSTEM_DIR = Path(sys.argv[2])
data.cache_dir = lambda: Path(sys.argv[3])
warnings.simplefilter("ignore", UserWarning)  # the note on an incomplete $D2L_BN_DATA
try:
    paths = data.locate(fetch=False)
    print("found in", sorted({str(p.parent) for p in paths.values()}))
    for p in paths.values():
        data.read_verified(p)
    print("all verified")
except data.DatasetError as err:
    print("DatasetError:", err)
"""


def run_permission_case(fake_files, tmp_path, env_folder: Path) -> str:
    system = tmp_path / "system"
    write_gz(system, fake_files)
    code = PERMISSION_SCRIPT
    payloads = json.dumps({k: v.hex() for k, v in fake_files.items()})
    result = unprivileged(
        f"import sys; sys.argv[1:] = {[payloads, str(system), str(tmp_path / 'cache')]!r}\n"
        + code, {data.DATA_ENV: str(env_folder)})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_folder_that_cannot_be_entered_is_passed_over(fake_files, tmp_path):
    locked = tmp_path / "locked"
    write_gz(locked, fake_files)
    locked.chmod(0o000)
    try:
        out = run_permission_case(fake_files, tmp_path, locked)
    finally:
        locked.chmod(0o755)
    assert f"found in ['{tmp_path / 'system'}']" in out and "all verified" in out


def test_an_unreadable_file_is_a_clear_error(fake_files, tmp_path):
    mine = tmp_path / "mine"
    write_gz(mine, fake_files)
    (mine / f"{LABELS}.gz").chmod(0o000)
    out = run_permission_case(fake_files, tmp_path, mine)
    assert f"DatasetError: {mine / (LABELS + '.gz')}: cannot be read (permission denied)" in out
    assert "chmod a+r" in out and "Delete" not in out


# --- real data -------------------------------------------------------------------------

def test_real_data_shapes_types_and_balance(record_property):
    start = time.perf_counter()
    arrays = data.load_arrays()
    seconds = time.perf_counter() - start
    record_property("load_seconds", seconds)
    assert arrays.train_images.shape == (60000, 28, 28)
    assert arrays.val_images.shape == (10000, 28, 28)
    assert arrays.train_labels.shape == (60000,) and arrays.val_labels.shape == (10000,)
    assert arrays.train_images.dtype == np.uint8
    assert arrays.train_images.max() == 255 and arrays.train_images.min() == 0
    np.testing.assert_array_equal(np.bincount(arrays.train_labels), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(arrays.val_labels), [1000] * 10)
