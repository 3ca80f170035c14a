"""plotly.js is heavy (5.2 MB): in production it is served under a hashed name,
compressed and cached for good; pages fetch it only when they draw a chart (issue 18)."""

import gzip

from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.test import Client

PLOTLY = "vendor/plotly/plotly-strict.min.js"


def test_plotly_is_served_compressed_and_cached_for_good_in_production(settings, tmp_path):
    # What the production settings use (DJANGO_DEBUG=false) and `make prod` collects.
    settings.STATIC_ROOT = str(tmp_path / "static")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    url = staticfiles_storage.url(PLOTLY)
    assert url != f"/static/{PLOTLY}"  # a name with the content's hash in it

    response = Client().get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"]
    assert "max-age=315360000" in response["Cache-Control"]  # ten years
    body = b"".join(response.streaming_content)
    assert len(body) < len(gzip.decompress(body)) / 2  # 1.6 MB on the wire, not 5.2
    assert gzip.decompress(body) == (tmp_path / "static" / PLOTLY).read_bytes()


def test_pages_name_plotly_only_for_the_chart_script_to_fetch(client_for, risk_officer):
    html = client_for(risk_officer).get("/").content.decode()
    assert f'<script src="/static/{PLOTLY}"' not in html
    assert f'data-plotly="/static/{PLOTLY}"' in html
