"""The production static files storage: whitenoise's hashed names, cached for good, each
file also written gzipped and, with the Brotli package installed (requirements.txt),
Brotli-compressed, which browsers prefer (issue 18).

Brotli at quality 9, not whitenoise's 11: ``collectstatic`` compresses every file again
at each start (``make prod``), and quality 11 made that about 75 s of CPU more for the
project's files (plotly.js alone 17-24 s a copy, written under two names) where quality
9 takes 1.7 s for a plotly.js 12 % larger than quality 11's and 17 % smaller than gzip's.
Figures in docs/benchmarks.md (issue 18)."""

from __future__ import annotations

from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage

BROTLI_QUALITY = 9


class _Compressor(Compressor):
    @staticmethod
    def compress_brotli(data: bytes) -> bytes:
        import brotli

        return brotli.compress(data, quality=BROTLI_QUALITY)


class CompressedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """whitenoise's ``CompressedManifestStaticFilesStorage`` with Brotli at
    ``BROTLI_QUALITY``."""

    def create_compressor(self, **kwargs) -> Compressor:
        return _Compressor(**kwargs)
