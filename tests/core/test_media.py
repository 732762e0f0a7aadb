"""Public uploads are served by the app; private ones (proofs of delivery) are not."""

import pytest


@pytest.fixture
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "products" / "2026" / "11").mkdir(parents=True)
    (tmp_path / "products" / "2026" / "11" / "cooker.jpg").write_bytes(b"\xff\xd8\xff picture")
    (tmp_path / "proofs" / "2026" / "11").mkdir(parents=True)
    (tmp_path / "proofs" / "2026" / "11" / "signature.png").write_bytes(b"\x89PNG signature")
    return tmp_path


def test_a_product_picture_is_served_to_anyone(client, media_root):
    response = client.get("/media/products/2026/11/cooker.jpg")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\xff\xd8\xff picture"
    assert "max-age" in response["Cache-Control"]


@pytest.mark.parametrize("path", [
    "/media/proofs/2026/11/signature.png",           # private: only the logistics view serves it
    "/media/products/../proofs/2026/11/signature.png",
    "/media/products/2026/11/missing.jpg",
])
def test_private_missing_or_escaping_paths_are_not_found(client, media_root, path):
    assert client.get(path).status_code == 404
