"""Where the Rasa server gets its model: RASA_MODEL, a path or an http(s) URL to a trained .tar.gz.

Models are trained once and shipped as an artefact (docs/deploy.md). A URL is downloaded into a
cache directory before Rasa starts; `#sha256=<hex>` at its end is checked, and a cached file with
that digest is used without downloading again. Without a digest the file is fetched on every
start (a URL may be re-pointed at a new model). Empty: `models`, where Rasa takes the newest.
Standard library only: this runs in the Rasa environment and imports nothing of the app.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urlparse

DEFAULT = "models"
CACHE = Path(__file__).resolve().parent.parent / "instance" / "models"
DOWNLOAD_TIMEOUT = 300.0
MAX_BYTES = 2 * 1024 ** 3  # a model larger than this is not one of ours
DIGEST = re.compile(r"^sha256=([0-9a-f]{64})$")


class ModelUnavailable(SystemExit):
    """RASA_MODEL names nothing Rasa can load; the message is one line naming the variable."""


def model_path(spec: str, cache: Path = CACHE, timeout: float = DOWNLOAD_TIMEOUT) -> str:
    """The local path Rasa's `--model` gets for RASA_MODEL `spec` (downloading a URL first)."""
    spec = spec.strip()
    if not spec:
        return DEFAULT
    scheme = urlparse(spec).scheme.lower()
    if scheme in ("http", "https"):
        return str(download(spec, cache, timeout))
    if scheme and len(scheme) > 1:  # "C:" is a drive, not a scheme
        raise ModelUnavailable(f"RASA_MODEL must be a path or an http(s) URL, not a {scheme}: URL")
    if not Path(spec).exists():
        raise ModelUnavailable(f"RASA_MODEL={spec} does not exist")
    return spec


def download(spec: str, cache: Path, timeout: float) -> Path:
    url, fragment = urldefrag(spec)
    digest = None
    if fragment:
        match = DIGEST.match(fragment.lower())
        if not match:
            raise ModelUnavailable("RASA_MODEL's URL may end only in #sha256=<64 hex digits>")
        digest = match.group(1)
    name = f"{digest}.tar.gz" if digest else f"url-{hashlib.sha256(url.encode()).hexdigest()[:16]}.tar.gz"
    target = cache / name
    if digest and target.exists() and sha256_of(target) == digest:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=cache, prefix=".download-", suffix=".tar.gz")
    tmp = Path(tmp_name)
    try:
        got = fetch(url, fd, timeout)
        if digest and got != digest:
            raise ModelUnavailable(f"RASA_MODEL's download has sha256 {got}, not the {digest} its URL names")
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def fetch(url: str, fd: int, timeout: float) -> str:
    """Write `url`'s body to `fd` (closing it); returns its sha256."""
    sha, size = hashlib.sha256(), 0
    with os.fdopen(fd, "wb") as out:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - http(s) only, checked above
                while chunk := resp.read(1 << 20):
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise ModelUnavailable(f"RASA_MODEL's download is larger than {MAX_BYTES} bytes")
                    sha.update(chunk)
                    out.write(chunk)
        except OSError as exc:  # URLError, HTTPError and timeouts are OSErrors
            raise ModelUnavailable(f"RASA_MODEL could not be downloaded from {url}: {exc}") from None
    return sha.hexdigest()


def sha256_of(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()
