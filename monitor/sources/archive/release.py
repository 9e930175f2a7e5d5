"""Where a day of adsb.lol's archive lives: the releases of one UTC day in the ``adsblol/globe_history_<Y>``
repositories, most preferred first, each with its parts' URLs and sizes.

Place in the flow: the backfill asks :func:`candidates` for a day, streams the first release's parts
(``sources.archive.download``) through ``sources.archive.tarstream``, and falls back to the next
candidate when a release cannot be read whole.

Facts (../shared/reference/history.md §A.1; the repositories' ``update-releases.py`` and
``manifests/update.sh``):
- one release per day and readsb pod, tagged ``vYYYY.MM.DD-planes-readsb-<pod>`` (``prod-0``,
  ``staging-0``; ``prod-0tmp``/``staging-0tmp`` from 2025-05-23 to 2025-06-12; ``mlatonly-0`` holds
  multilateration results only and is never a day's data; 2023 has ``prod-1``, ``test-0``...);
- its assets are ``<tag>.tar``, or ``<tag>.tar.aa``, ``.tar.ab``... (``split -b 2000000000``) when the
  tar is larger than 2,000,000,000 bytes;
- the repository is that of the upload year: a late-December day can be in ``globe_history_<Y+1>``
  (globe_history_2026 holds days from 2025-12-14 on, globe_history_2024 from 2023-12-28 on);
- ``PREFERRED_RELEASES.txt`` (raw.githubusercontent.com, regenerated daily) has one line per day: the
  comma-joined download URLs of every asset of that day's largest release in that repository, e.g.
  ``https://github.com/adsblol/globe_history_2025/releases/download/v2025.11.29-planes-readsb-staging-0/
  v2025.11.29-planes-readsb-staging-0.tar.aa,https://...tar.ab``. The day is the tag's date. The largest
  can be ``mlatonly-0`` when it is the only release of the day in that repository: such a line is skipped.

Requests: one GET of each year's listing (kept in ``listings`` between calls), one HEAD per part of the
listed release, and HEADs of the pods' assets (split name first, then the single tar). The GitHub API
is never used (60 requests an hour without a token). HEAD follows GitHub's 302 to its object storage,
whose answer carries the size.
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

import requests

from monitor.clock import utcnow
from monitor.sources.archive.tarstream import ArchiveError
from monitor.sources.http import USER_AGENT

__all__ = [
    "DEFAULT_DOWNLOAD_BASE",
    "DEFAULT_RAW_BASE",
    "FIRST_DAY",
    "SPLIT_BYTES",
    "Release",
    "ReleaseNotFound",
    "candidates",
    "parse_preferred",
    "repository",
]

log = logging.getLogger(__name__)

DEFAULT_RAW_BASE = "https://raw.githubusercontent.com"
DEFAULT_DOWNLOAD_BASE = "https://github.com"
OWNER = "adsblol"
LISTING = "PREFERRED_RELEASES.txt"
FIRST_DAY = date(2023, 1, 1)  # globe_history_2023 is the first repository
SPLIT_BYTES = 2_000_000_000  # `split -b 2000000000`: every part of a split tar but the last has this size
NEXT_YEAR_FROM = 10  # December days from the 10th are looked up in the next year's repository too
PODS = ("prod-0", "staging-0")
TMP_PODS = ("prod-0tmp", "staging-0tmp")  # RELEASES.md: 2025-05-23 ... 2025-06-12 only
TMP_DAYS = (date(2025, 5, 23), date(2025, 6, 12))
MLAT_ONLY = "mlatonly"  # a pod fed by multilateration results only: not a day's data

_TAG = re.compile(r"v(\d{4})\.(\d{2})\.(\d{2})-(.+)")
_ASSET_PATH = re.compile(r"/?(?P<repo>[^/]+/[^/]+)/releases/download/(?P<tag>[^/]+)/(?P<file>[^/]+)")
_GONE = (404, 410)


class ReleaseNotFound(ArchiveError):
    """No release of ``day`` could be found; ``tried`` says where it was looked for, one phrase each."""

    def __init__(self, message: str, day: date, tried: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.day = day
        self.tried = tuple(tried)


@dataclass(frozen=True)
class Release:
    """One day's release of one pod: its parts in order (``.tar``, or ``.tar.aa``, ``.tar.ab``...)
    and their sizes in bytes (None where unknown). ``preferred``: named by ``PREFERRED_RELEASES.txt``."""

    day: date
    tag: str
    urls: tuple[str, ...]
    sizes: tuple[int | None, ...]
    preferred: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        if not self.urls or len(self.urls) != len(self.sizes):
            raise ValueError(f"{self.tag}: {len(self.urls)} URLs and {len(self.sizes)} sizes; give one size per part")

    @property
    def total(self) -> int | None:
        """Bytes of the whole tar, or None when a part's size is unknown."""
        if any(size is None for size in self.sizes):
            return None
        return sum(size for size in self.sizes if size is not None)

    @property
    def repository(self) -> str:
        """``owner/name`` of the repository holding the release, from its first URL."""
        found = _ASSET_PATH.fullmatch(urlsplit(self.urls[0]).path)
        return found["repo"] if found else ""

    @property
    def pod(self) -> str:
        """The readsb pod that wrote the day: ``planes-readsb-staging-0``."""
        return self.tag.split("-", 1)[1]


def repository(year: int) -> str:
    """The repository of releases uploaded in ``year``: ``adsblol/globe_history_<year>``."""
    return f"{OWNER}/globe_history_{year}"


def parse_preferred(text: str) -> dict[date, tuple[str, tuple[str, ...]]]:
    """Day -> (tag, asset paths ``owner/repo/releases/download/<tag>/<file>`` in part order) of a
    ``PREFERRED_RELEASES.txt``. Lines are comma-joined asset URLs of one release; the day is the
    tag's date. Blank lines, ``#`` comments, assets that are not the tar's parts, ``mlatonly`` releases
    and lines whose parts do not make a whole tar (``.ab`` without ``.aa``) are skipped; the first line
    of a day wins."""
    days: dict[date, tuple[str, tuple[str, ...]]] = {}
    for number, raw_line in enumerate(text.splitlines(), 1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        tags: set[str] = set()
        parts: dict[str, str] = {}  # suffix ("" for the unsplit tar, else "aa", "ab"...) -> path
        for url in line.split(","):
            found = _ASSET_PATH.fullmatch(urlsplit(url.strip()).path)
            if found is None:
                continue
            tag, file = found["tag"], found["file"]
            suffix = _part_suffix(tag, file)
            if suffix is not None:
                tags.add(tag)
                parts[suffix] = f"{found['repo']}/releases/download/{tag}/{file}"
        day = _tag_day(next(iter(tags))) if len(tags) == 1 else None
        if day is None:
            log.debug("%s line %d names no single release's tar: skipped", LISTING, number)
            continue
        tag = tags.pop()
        if MLAT_ONLY in tag:
            log.debug("%s line %d: %s is multilateration only: skipped", LISTING, number, tag)
            continue
        ordered = _whole(parts)
        if ordered is None:
            log.warning("%s line %d: %s lists parts %s, not a whole tar: skipped", LISTING, number, tag, sorted(parts))
            continue
        days.setdefault(day, (tag, tuple(parts[s] for s in ordered)))
    return days


def candidates(
    day: date,
    session: requests.Session,
    *,
    raw_base: str = DEFAULT_RAW_BASE,
    download_base: str = DEFAULT_DOWNLOAD_BASE,
    timeout_s: float = 30.0,
    listings: MutableMapping[int, str] | None = None,
    today: date | None = None,
    split_bytes: int | None = None,
) -> list[Release]:
    """The releases of the UTC ``day``, most preferred first: the one(s) ``PREFERRED_RELEASES.txt``
    names (of ``day.year``, then of the next year for a late-December day), then the others found by
    HEAD of the prod-0 and staging-0 assets (and their ``-0tmp`` twins from 2025-05-23 to 2025-06-12),
    larger first. A tag is listed once. A listed release whose part is gone (404) is left out, as is
    a split release whose parts are not whole (each but the last of one size: ``split_bytes`` if
    given, else the first part's; ``split -b`` cuts adsb.lol's at 2,000,000,000 bytes).

    ``listings`` keeps each year's fetched listing between calls (a backfill of 30 days fetches it
    once); ``today`` (UTC) defaults to the clock's. Raises :class:`ReleaseNotFound` (one line naming
    the day, what was tried and the fix) when there is none, and at once for a day before 2023 or one
    that has not ended yet. Network errors are not raised: they are counted into that message.
    """
    today = today or utcnow().date()
    if day < FIRST_DAY:
        raise ReleaseNotFound(
            f"adsb.lol's archive starts in {FIRST_DAY.year} ({repository(FIRST_DAY.year)}); {day} is before it: "
            "choose a later day",
            day,
        )
    if day >= today:
        when = "is in the future" if day > today else "has not ended yet"
        raise ReleaseNotFound(
            f"{day} {when} (today is {today} UTC): a day's release is uploaded a few hours after it ends (UTC); "
            "choose an earlier day",
            day,
        )
    lookup = _Lookup(session, raw_base.rstrip("/"), download_base.rstrip("/"), timeout_s, split_bytes)
    years = [day.year]
    if day.month == 12 and day.day >= NEXT_YEAR_FROM and day.year + 1 <= today.year:
        years.append(day.year + 1)
    cache: MutableMapping[int, str] = listings if listings is not None else {}

    found: dict[str, Release] = {}  # tag -> release, in the order found
    listed: list[Release] = []
    for year in years:
        release = lookup.listed(day, year, cache)
        if release is not None and release.tag not in found:
            found[release.tag] = release
            listed.append(release)
    probed: list[Release] = []
    pods = PODS + (TMP_PODS if TMP_DAYS[0] <= day <= TMP_DAYS[1] else ())
    for year in years:
        for pod in pods:
            tag = f"v{day:%Y.%m.%d}-planes-readsb-{pod}"
            if tag in found:
                continue
            release = lookup.probe(day, year, tag)
            if release is not None:
                found[tag] = release
                probed.append(release)
    listed.sort(key=_larger_first)
    probed.sort(key=_larger_first)
    result = listed + probed
    if not result:
        raise ReleaseNotFound(lookup.not_found(day, years, pods), day, lookup.tried)
    log.info(
        "%s: %d release(s): %s",
        day,
        len(result),
        ", ".join(f"{r.tag} ({_mib(r.total)}{', preferred' if r.preferred else ''})" for r in result),
    )
    return result


class _Lookup:
    """The requests of one :func:`candidates` call, and what they found for its message."""

    def __init__(
        self, session: requests.Session, raw_base: str, download_base: str, timeout_s: float, split_bytes: int | None
    ) -> None:
        self.session = session
        self.raw_base = raw_base
        self.download_base = download_base
        self.timeout_s = timeout_s
        self.split_bytes = split_bytes
        self.tried: list[str] = []
        self.heads = 0
        self.failures: list[str] = []  # why requests got no usable answer (network, 429, 5xx)

    def listed(self, day: date, year: int, cache: MutableMapping[int, str]) -> Release | None:
        """The release ``year``'s listing names for ``day``, with its parts' sizes (HEAD)."""
        where = f"{LISTING} of {repository(year)}"
        text = cache.get(year)
        if text is None:
            url = f"{self.raw_base}/{repository(year)}/main/{LISTING}"
            try:
                response = self.session.get(url, headers={"User-Agent": USER_AGENT}, timeout=self.timeout_s)
            except requests.RequestException as exc:
                self.tried.append(f"{where} could not be fetched ({exc.__class__.__name__})")
                log.warning("%s could not be fetched (%s); looking for the day's assets instead", url, exc)
                return None
            with response:
                if response.status_code != 200:
                    why = "does not exist" if response.status_code in _GONE else "could not be fetched"
                    self.tried.append(f"{where} {why} (HTTP {response.status_code})")
                    log.warning("%s answered HTTP %d; looking for the day's assets instead", url, response.status_code)
                    return None
                text = response.content.decode("utf-8", errors="replace")
            cache[year] = text
        entry = parse_preferred(text).get(day)
        if entry is None:
            self.tried.append(f"{where} does not list it")
            return None
        tag, paths = entry
        urls = tuple(f"{self.download_base}/{path}" for path in paths)
        sizes: list[int | None] = []
        for url in urls:
            status, size = self._head(url)
            if status in _GONE or status == 403:
                self.tried.append(f"{where} lists {tag}, whose {url.rsplit('/', 1)[-1]} is gone (HTTP {status})")
                log.warning("%s lists %s, but %s answers HTTP %d: left out", where, tag, url, status)
                return None
            sizes.append(size)
        release = Release(day, tag, urls, tuple(sizes), preferred=True)
        if not self._whole(release):
            self.tried.append(f"{where} lists {tag}, whose parts are not whole")
            return None
        return release

    def probe(self, day: date, year: int, tag: str) -> Release | None:
        """``tag``'s release in ``year``'s repository, found by HEAD of its split parts, else its tar."""
        base = f"{self.download_base}/{repository(year)}/releases/download/{tag}/{tag}.tar"
        urls: list[str] = []
        sizes: list[int | None] = []
        for suffix in _suffixes():
            url = f"{base}.{suffix}"
            status, size = self._head(url)
            if status != 200:
                break
            urls.append(url)
            sizes.append(size)
            if size is not None and size != self._part_size(sizes):  # not a whole part: the last
                break
        if not urls:
            status, size = self._head(base)
            if status != 200:
                return None
            urls, sizes = [base], [size]
        release = Release(day, tag, tuple(urls), tuple(sizes))
        if len(urls) == 1 and urls[0] != base:  # an .aa alone: its .ab is missing
            log.warning("%s has %s, but its next part was not found: left out", repository(year), urls[0])
            return None
        return release if self._whole(release) else None

    def _part_size(self, sizes: list[int | None]) -> int:
        """The size of every part of a split tar but the last: ``split_bytes`` if given, else the
        first part's (``split -b`` cuts equal parts; adsb.lol's are 2,000,000,000 bytes)."""
        return self.split_bytes or next((s for s in sizes if s is not None), 0)

    def _whole(self, release: Release) -> bool:
        """Every part of a split release but the last has the same size (where sizes are known)."""
        part = self._part_size(list(release.sizes))
        if all(size in (None, part) for size in release.sizes[:-1]):
            return True
        log.warning("%s: parts of %s bytes are not a whole split tar: left out", release.tag, release.sizes)
        return False

    def _head(self, url: str) -> tuple[int | None, int | None]:
        """(status, Content-Length) of HEAD ``url`` after redirects; (None, None) when the request failed."""
        self.heads += 1
        try:
            response = self.session.head(
                url, headers={"User-Agent": USER_AGENT}, timeout=self.timeout_s, allow_redirects=True
            )
        except requests.RequestException as exc:
            self.failures.append(exc.__class__.__name__)
            log.warning("HEAD %s failed: %s", url, exc)
            return None, None
        with response:
            status = response.status_code
            if status == 429 or status >= 500:
                self.failures.append(f"HTTP {status}")
                log.warning("HEAD %s answered HTTP %d", url, status)
            length = response.headers.get("Content-Length", "")
            return status, int(length) if status == 200 and length.isascii() and length.isdigit() else None

    def not_found(self, day: date, years: list[int], pods: Sequence[str]) -> str:
        repos = " and ".join(repository(y).split("/")[1] for y in years)
        probed = f"HEAD of the {'/'.join(pods)} assets in {repos} found none ({self.heads} requests"
        if self.failures:
            kinds = ", ".join(sorted(set(self.failures)))
            probed += f", {len(self.failures)} failed: {kinds}"
        probed += ")"
        fix = "download its parts and pass them with --archive PATH"
        if self.failures or any("could not be fetched" in t for t in self.tried):
            fix = f"check the network and run again, or {fix}"
        return f"no adsb.lol release of {day} found: {'; '.join([*self.tried, probed])}; {fix}"


def _suffixes() -> list[str]:
    """``split``'s part names: aa, ab, ... az, ba, ... (a day has two or three)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [a + b for a in letters for b in letters]


def _part_suffix(tag: str, file: str) -> str | None:
    """ "" for ``<tag>.tar``, "aa" for ``<tag>.tar.aa``...; None for any other asset."""
    if file == f"{tag}.tar":
        return ""
    rest = file.removeprefix(f"{tag}.tar.")
    return rest if rest != file and len(rest) == 2 and rest.isascii() and rest.isalpha() and rest.islower() else None


def _whole(parts: dict[str, str]) -> list[str] | None:
    """The part suffixes in order when they make one tar: the unsplit tar alone, or aa, ab... without a gap."""
    if set(parts) == {""}:
        return [""]
    ordered = _suffixes()[: len(parts)]
    return ordered if "" not in parts and len(parts) >= 2 and set(parts) == set(ordered) else None


def _tag_day(tag: str) -> date | None:
    found = _TAG.fullmatch(tag)
    if found is None:
        return None
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


def _larger_first(release: Release) -> tuple[bool, int]:
    total = release.total
    return total is None, -(total or 0)


def _mib(size: int | None) -> str:
    return "size unknown" if size is None else f"{size / 2**20:,.0f} MiB"
