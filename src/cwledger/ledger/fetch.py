"""Reading a tlog-tiles resource from another party's server: bounded, whatever it sends.

One reader for the mirror and the monitor. The body is read up to `limit` bytes, and a
gzip body is inflated up to `limit` bytes too (a small compressed body may inflate to
gigabytes), so a hostile source costs at most `limit` bytes of memory per resource.
"""

from __future__ import annotations

import urllib.error
import urllib.request
import zlib

from cwledger.errors import Unavailable

__all__ = ["fetch"]


def fetch(url: str, limit: int, timeout: float = 30.0) -> bytes | None:
    """The resource at `url` (http, https or file), None for a 404 or a missing file.

    Raises Unavailable when the source cannot be read or sends more than `limit` bytes,
    compressed or not."""
    request = urllib.request.Request(
        url, headers={"Accept-Encoding": "gzip, identity", "User-Agent": "cwledger"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310
            body: bytes = resp.read(limit + 1)
            encoding = (resp.headers.get("Content-Encoding") or "").lower()
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise Unavailable(f"{url}: HTTP {e.code}") from e
    except urllib.error.URLError as e:
        if isinstance(e.reason, FileNotFoundError):
            return None
        raise Unavailable(f"{url}: {e.reason}") from e
    except OSError as e:
        raise Unavailable(f"{url}: {e}") from e
    if encoding in ("gzip", "x-gzip"):
        inflate = zlib.decompressobj(wbits=31)
        try:
            body = inflate.decompress(body, limit + 1)
        except zlib.error as e:
            raise Unavailable(f"{url}: not valid gzip ({e})") from e
    if len(body) > limit:
        raise Unavailable(f"{url}: larger than any tlog-tiles resource ({limit:,} bytes)")
    return body
