"""plotly.js is heavy (5.2 MB): in production it is served under a hashed name,
compressed (Brotli to browsers that take it, else gzip) and cached for good; pages fetch
it only when they draw a chart (issue 18)."""

import gzip

import brotli
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.test import Client

PLOTLY = "vendor/plotly/plotly-strict.min.js"


# What governance/settings.py names when DJANGO_DEBUG=false (the test settings replace it).
PRODUCTION_STORAGE = {"BACKEND": "governance.static_storage.CompressedStaticFilesStorage"}


def test_plotly_is_served_compressed_and_cached_for_good_in_production(settings, tmp_path):
    # What the production settings use (DJANGO_DEBUG=false) and `make prod` collects.
    settings.STATIC_ROOT = str(tmp_path / "static")
    settings.STORAGES = {**settings.STORAGES, "staticfiles": PRODUCTION_STORAGE}
    call_command("collectstatic", "--noinput", verbosity=0)
    url = staticfiles_storage.url(PLOTLY)
    assert url != f"/static/{PLOTLY}"  # a name with the content's hash in it
    original = (tmp_path / "static" / PLOTLY).read_bytes()

    response = Client().get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"]
    assert "max-age=315360000" in response["Cache-Control"]  # ten years
    gzipped = b"".join(response.streaming_content)
    assert len(gzipped) < len(original) / 2  # 1.6 MB on the wire, not 5.2
    assert gzip.decompress(gzipped) == original

    # A browser that takes Brotli (every current one) gets the smaller .br.
    response = Client().get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "br"
    assert "immutable" in response["Cache-Control"]
    assert "Accept-Encoding" in response["Vary"]
    body = b"".join(response.streaming_content)
    assert len(body) < len(gzipped)
    assert brotli.decompress(body) == original


def test_pages_name_plotly_only_for_the_chart_script_to_fetch(client_for, risk_officer):
    html = client_for(risk_officer).get("/").content.decode()
    assert f'<script src="/static/{PLOTLY}"' not in html
    assert f'data-plotly="/static/{PLOTLY}"' in html
