"""The one resource fetcher (itembank/bank/resources.py) as WeasyPrint's url_fetcher: a PDF embeds
the bank's own images and checked data: images, and nothing else — no request to a listener on
127.0.0.1, no local file — and every refusal is recorded."""

from __future__ import annotations

import base64
import hashlib
import http.server
import threading
from collections.abc import Iterator

import pytest

from itembank.bank.resources import ResourceFetcher, ResourceRefused, embed_uri, media_url
from itembank.paper.render import _pdf
from tests.itembank.bank.test_svg import GOOD, PNG, svg


class Listener:
    """An HTTP server on 127.0.0.1 that records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                self.wfile.write(PNG)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def test_the_listener_answers_when_asked(listener: Listener) -> None:
    """The control: the listener does record a request, so 'never called' below means something."""
    import urllib.request

    with urllib.request.urlopen(f"{listener.url}/control", timeout=5) as reply:  # noqa: S310
        assert reply.read() == PNG
    assert listener.requests == ["/control"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_a_pdf_fetches_nothing_from_the_network_or_the_disk(listener: Listener, tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret.png"
    secret.write_bytes(PNG)
    # an SVG that got past every check (e.g. stored before the check existed) still fetches nothing
    svg_out = svg(f'<image href="{listener.url}/in-svg" width="5" height="5"/>'
                  f'<image href="file://{secret}" width="5" height="5"/>')
    html = (f'<html><head><link rel="stylesheet" href="{listener.url}/sheet.css">'
            f'<style>@import url({listener.url}/import.css); body {{ background: url(file://{secret}) }}</style>'
            f'</head><body><img src="{listener.url}/img.png"><img src="file://{secret}"><img src="secret.png">'
            f'<img src="data:image/svg+xml;base64,{b64(svg_out)}"></body></html>')
    fetcher = ResourceFetcher()
    pdf = _pdf(html, fetcher)
    assert pdf.startswith(b"%PDF")
    assert listener.requests == []
    refused = " ".join(url for url, _ in fetcher.refused)
    assert f"{listener.url}/img.png" in refused and f"{listener.url}/sheet.css" in refused
    assert f"file://{secret}" in refused
    assert "/Subtype /Image" not in pdf.decode("latin-1")  # nothing was embedded


def test_a_pdf_embeds_the_banks_images_and_checked_data_images() -> None:
    drawing = GOOD["fragment refs"]
    digest = hashlib.sha256(PNG).hexdigest()
    html = (f'<html><body><img src="{media_url(digest)}" width="20">'
            f'<img src="data:image/svg+xml;base64,{b64(drawing)}" width="20"></body></html>')
    fetcher = ResourceFetcher(media={digest: PNG})
    pdf = _pdf(html, fetcher)
    assert fetcher.refused == []
    assert "/Subtype /Image" in pdf.decode("latin-1")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:1/x.png", "https://example.org/x.png", "ftp://example.org/x", "file:///etc/passwd",
    "FILE:///etc/passwd", "gopher://x", "relative.png", "/etc/passwd",
    "data:text/html;base64,PHNjcmlwdD4=", "data:image/png;base64,R0lGODlh", "data:image/png;base64,!!!",
    "data:image/svg+xml;base64," + b64(svg('<image href="http://127.0.0.1:1/"/>')),
    media_url("0" * 64), "media:../../etc/passwd",
])
def test_everything_else_is_refused_and_recorded(url: str) -> None:
    fetcher = ResourceFetcher(media={})
    with pytest.raises(ResourceRefused):
        fetcher.fetch(url)
    assert len(fetcher.refused) == 1


def test_a_stored_image_that_fails_the_check_is_refused_at_print_time() -> None:
    bad = svg('<image href="http://127.0.0.1:1/x"/>')
    digest = hashlib.sha256(bad).hexdigest()
    fetcher = ResourceFetcher(media=lambda d: bad if d == digest else None)
    with pytest.raises(ResourceRefused, match="refused"):
        fetcher.fetch(media_url(digest))


def test_previews_embed_only_images_that_pass_the_check() -> None:
    assert embed_uri(PNG, "a.png") == f"data:image/png;base64,{b64(PNG)}"
    assert embed_uri(svg('<image href="http://127.0.0.1:1/x"/>'), "a.svg") is None
    assert embed_uri(b"not a png", "a.png") is None
