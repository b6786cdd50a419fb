"""idx parsing, verification, fetching and the real Fashion-MNIST files."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import threading
import time

import numpy as np
import pytest

from d2l_bn import data

LABELS = "train-labels-idx1-ubyte"


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">i4").tobytes()
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def fake_labels(monkeypatch, tmp_path):
    """A small, valid labels file registered under the real name, with its checksum."""
    payload = idx_bytes(np.arange(100) % 10)
    monkeypatch.setitem(data.FASHION_MNIST_FILES, LABELS,
                        (hashlib.sha256(payload).hexdigest(), len(payload)))
    path = tmp_path / f"{LABELS}.gz"
    path.write_bytes(gzip.compress(payload))
    return path, payload


def test_parse_idx_round_trip():
    images = np.random.default_rng(0).integers(0, 256, (5, 3, 4))
    parsed = data.parse_idx(idx_bytes(images))
    assert parsed.shape == (5, 3, 4) and parsed.dtype == np.uint8
    np.testing.assert_array_equal(parsed, images)


@pytest.mark.parametrize("mangle, message", [
    (lambda b: b[:-7], "truncated"),
    (lambda b: b"\x00\x00\x0d\x01" + b[4:], "magic number"),
    (lambda b: b[:6], "truncated header"),
])
def test_parse_idx_rejects_bad_files(mangle, message):
    with pytest.raises(data.DatasetError, match=message) as err:
        data.parse_idx(mangle(idx_bytes(np.zeros((4, 2, 2)))), "some/file")
    assert "some/file" in str(err.value)


def test_verified_read_accepts_good_file(fake_labels):
    path, payload = fake_labels
    assert data.read_verified(path) == payload


@pytest.mark.parametrize("kind", ["truncated", "checksum", "not gzip", "missing"])
def test_verified_read_names_file_and_remedy(fake_labels, kind):
    path, payload = fake_labels
    if kind == "truncated":
        path.write_bytes(gzip.compress(payload[:-10]))
    elif kind == "checksum":
        path.write_bytes(gzip.compress(payload[:-1] + b"\x07"))
    elif kind == "not gzip":
        path.write_bytes(b"this is not gzip data")
    else:
        path.unlink()
    with pytest.raises(data.DatasetError) as err:
        data.read_verified(path)
    message = str(err.value)
    assert str(path) in message and "dataset-fashion-mnist" in message
    assert {"truncated": "expected", "checksum": "SHA-256", "not gzip": "decompress",
            "missing": "missing"}[kind] in message


@pytest.fixture
def file_server(tmp_path):
    """Serve a folder over HTTP on localhost; yields (folder, base_url)."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def test_failed_fetch_leaves_no_file(file_server, fake_labels, tmp_path):
    folder, url = file_server
    _, payload = fake_labels
    (folder / f"{LABELS}.gz").write_bytes(gzip.compress(payload + b"junk"))
    cache = tmp_path / "cache"
    with pytest.raises(data.DatasetError, match=LABELS):
        data.download(LABELS, cache, url)
    assert list(cache.iterdir()) == []


def test_unreachable_server_is_a_clear_error(tmp_path):
    with pytest.raises(data.DatasetError, match="Could not download"):
        data.download(LABELS, tmp_path / "cache", "http://127.0.0.1:9/")
    assert list((tmp_path / "cache").iterdir()) == []


def test_fetch_of_good_file_is_verified_and_kept(file_server, fake_labels, tmp_path):
    folder, url = file_server
    _, payload = fake_labels
    (folder / f"{LABELS}.gz").write_bytes(gzip.compress(payload))
    path = data.download(LABELS, tmp_path / "cache", url)
    assert data.read_verified(path) == payload


def test_search_order_prefers_env_folder(monkeypatch, tmp_path):
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    assert data.candidate_dirs()[0] == tmp_path
    for name in data.FASHION_MNIST_FILES:
        (tmp_path / f"{name}.gz").write_bytes(b"")
    assert set(data.locate(fetch=False).values()) == {
        tmp_path / f"{n}.gz" for n in data.FASHION_MNIST_FILES}


def test_missing_everywhere_without_fetch(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "candidate_dirs", lambda: [tmp_path / "a", tmp_path / "b"])
    with pytest.raises(data.DatasetError, match="not found"):
        data.locate(fetch=False)


def test_resize_keeps_constant_images_constant():
    images = np.full((2, 28, 28), 0.25, np.float32)
    out = data.resize_images(images, (32, 20))
    assert out.shape == (2, 32, 20)
    np.testing.assert_allclose(out, 0.25, atol=1e-6)


def test_real_data_shapes_types_and_balance(record_property):
    start = time.perf_counter()
    arrays = data.load_arrays()
    seconds = time.perf_counter() - start
    record_property("load_seconds", seconds)
    print(f"\nloaded 70,000 images in {seconds:.3f} s")
    assert arrays.train_images.shape == (60000, 28, 28)
    assert arrays.val_images.shape == (10000, 28, 28)
    assert arrays.train_labels.shape == (60000,) and arrays.val_labels.shape == (10000,)
    assert arrays.train_images.dtype == np.uint8
    assert arrays.train_images.max() == 255 and arrays.train_images.min() == 0
    np.testing.assert_array_equal(np.bincount(arrays.train_labels), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(arrays.val_labels), [1000] * 10)


def test_fetch_real_files_over_http(file_server, monkeypatch, tmp_path):
    """The whole download path on the real files, served from the local copy."""
    folder, url = file_server
    for path in data.locate(fetch=False).values():
        (folder / path.name).write_bytes(path.read_bytes())
    monkeypatch.setattr(data, "candidate_dirs", lambda: [tmp_path / "cache"])
    paths = data.locate(fetch=True, base_url=url)
    assert {p.parent for p in paths.values()} == {tmp_path / "cache"}
    assert data.parse_idx(data.read_verified(paths[LABELS], LABELS)).shape == (60000,)
