"""Static files in production: hashed names (cached for good) and gzip copies, made once by
collectstatic and served by WhiteNoise from the web processes."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedGzippedStaticFiles(CompressedManifestStaticFilesStorage):
    """WhiteNoise's storage with gzip alone: Brotli at its default quality took about a minute of
    CPU per release on the API docs' bundles (when a dependency happens to install it), for a
    few percent less than gzip on the files a page loads."""

    def create_compressor(self, **kwargs):
        return super().create_compressor(use_brotli=False, **kwargs)
