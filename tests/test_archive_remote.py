"""A day of adsb.lol's archive found and streamed over real HTTP (a loopback server serving the
repositories' paths as GitHub does): the listed release first, then probed ones; a dropped or
stalled connection resumed with Range so the tar's members come out identical; faults named.
Listings use real lines of the repositories' PREFERRED_RELEASES.txt; tars are built with tarfile."""

from __future__ import annotations

import io
import tarfile
import threading
from datetime import date

import pytest
import requests

from monitor.sources.archive.download import RemotePart, open_parts
from monitor.sources.archive.release import Release, ReleaseNotFound, candidates, parse_preferred
from monitor.sources.archive.tarstream import ArchiveError, members
from tests.fake_archive import FakeArchive, listing_path
from tests.fake_opensky import Fault

DAY = date(2025, 11, 29)
TODAY = date(2026, 1, 30)
STAGING = "v2025.11.29-planes-readsb-staging-0"
PROD = "v2025.11.29-planes-readsb-prod-0"

# Verbatim lines of adsblol/globe_history_2025 @208789e PREFERRED_RELEASES.txt (and _2026 @ae703f9)
LINE_1129 = (
    "https://github.com/adsblol/globe_history_2025/releases/download/v2025.11.29-planes-readsb-staging-0/"
    "v2025.11.29-planes-readsb-staging-0.tar.aa,"
    "https://github.com/adsblol/globe_history_2025/releases/download/v2025.11.29-planes-readsb-staging-0/"
    "v2025.11.29-planes-readsb-staging-0.tar.ab"
)
LINE_1128 = (
    "https://github.com/adsblol/globe_history_2025/releases/download/v2025.11.28-planes-readsb-prod-0/"
    "v2025.11.28-planes-readsb-prod-0.tar.aa,"
    "https://github.com/adsblol/globe_history_2025/releases/download/v2025.11.28-planes-readsb-prod-0/"
    "v2025.11.28-planes-readsb-prod-0.tar.ab"
)
LINE_0111 = (
    "https://github.com/adsblol/globe_history_2025/releases/download/v2025.01.11-planes-readsb-staging-0/"
    "v2025.01.11-planes-readsb-staging-0.tar"
)
LINE_1228_IN_2026 = (
    "https://github.com/adsblol/globe_history_2026/releases/download/v2025.12.28-planes-readsb-prod-0/"
    "v2025.12.28-planes-readsb-prod-0.tar.aa,"
    "https://github.com/adsblol/globe_history_2026/releases/download/v2025.12.28-planes-readsb-prod-0/"
    "v2025.12.28-planes-readsb-prod-0.tar.ab"
)
LINE_1214_MLAT_IN_2026 = (
    "https://github.com/adsblol/globe_history_2026/releases/download/v2025.12.14-planes-readsb-mlatonly-0/"
    "v2025.12.14-planes-readsb-mlatonly-0.tar"
)


def day_tar(n_traces: int = 12, seed: int = 0) -> tuple[bytes, dict[str, bytes]]:
    """A tar laid out as readsb's history day (``./`` names, members of odd sizes), in memory."""
    content = {"README.txt": b"adsb.lol globe_history day\n"}
    for k in range(n_traces):
        content[f"traces/{k:02x}/trace_full_0d{k:04x}.json"] = bytes([(k + seed) % 251]) * (997 * (k + 1))
    for half_hour in range(3):
        content[f"heatmap/{half_hour:02d}.bin.ttf"] = bytes(range(256)) * (40 + half_hour)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        top = tarfile.TarInfo(".")
        top.type = tarfile.DIRTYPE
        tar.addfile(top)
        for name, data in content.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue(), content


DATA, CONTENT = day_tar()
SPLIT = len(DATA) // 2 + 7  # an odd byte, inside a member


def find(server: FakeArchive, day: date = DAY, **kwargs) -> list[Release]:
    with requests.Session() as session:
        return candidates(day, session, raw_base=server.url, download_base=server.url, today=TODAY, **kwargs)


def release_of(server: FakeArchive, tag: str = STAGING, year: int = 2025) -> Release:
    urls = server.add_release(year, tag, DATA, split_at=SPLIT)
    return Release(DAY, tag, urls, (SPLIT, len(DATA) - SPLIT))


def read_all(release: Release, **kwargs) -> dict[str, bytes]:
    with requests.Session() as session:
        return dict(members(open_parts(release, session, **kwargs), lambda name: True, release.tag))


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


# -- the listing's format


def test_real_listing_lines_parse_to_the_day_tag_and_parts_in_order():
    text = "\n".join([LINE_1129, LINE_1128, LINE_0111, "", "# a comment", LINE_1214_MLAT_IN_2026]) + "\r\n"
    days = parse_preferred(text)
    assert set(days) == {date(2025, 11, 29), date(2025, 11, 28), date(2025, 1, 11)}  # mlatonly is not a day's data
    tag, paths = days[DAY]
    assert tag == STAGING
    assert paths == (
        f"adsblol/globe_history_2025/releases/download/{STAGING}/{STAGING}.tar.aa",
        f"adsblol/globe_history_2025/releases/download/{STAGING}/{STAGING}.tar.ab",
    )
    assert days[date(2025, 1, 11)][1][0].endswith("v2025.01.11-planes-readsb-staging-0.tar")
    ab_only = LINE_1129.split(",")[1]
    assert parse_preferred(ab_only) == {}  # a part missing (2024-09-22 had no .aa): not a whole tar


# -- finding a day's releases


def test_the_release_the_listing_names_comes_first_with_its_sizes_through_githubs_redirect():
    with FakeArchive(redirect=True) as server:
        server.add_listing(2025, "\n".join([LINE_1129, LINE_1128]) + "\n")
        server.add_release(2025, STAGING, DATA, split_at=SPLIT)
        bigger, _ = day_tar(n_traces=14)
        server.add_release(2025, PROD, bigger, split_at=SPLIT)  # larger, but not the listed one
        found = find(server, split_bytes=SPLIT)
        methods = sorted({s.method for s in server.seen})
    assert [r.tag for r in found] == [STAGING, PROD]
    first = found[0]
    assert first.preferred and not found[1].preferred
    assert first.urls == (
        f"{server.url}/adsblol/globe_history_2025/releases/download/{STAGING}/{STAGING}.tar.aa",
        f"{server.url}/adsblol/globe_history_2025/releases/download/{STAGING}/{STAGING}.tar.ab",
    )
    assert first.sizes == (SPLIT, len(DATA) - SPLIT)  # Content-Length of HEAD, after the 302
    assert first.total == len(DATA) and first.repository == "adsblol/globe_history_2025"
    assert found[1].total == len(bigger)
    assert methods == ["GET", "HEAD"]
    # one GET of the listing, HEAD of the listed parts and of prod's (each through a 302): no API
    firsts = [(s.method, s.path.rsplit("/", 1)[-1]) for s in server.seen if not s.path.startswith("/github-")]
    assert firsts == [
        ("GET", "PREFERRED_RELEASES.txt"),
        ("HEAD", f"{STAGING}.tar.aa"),
        ("HEAD", f"{STAGING}.tar.ab"),
        ("HEAD", f"{PROD}.tar.aa"),
        ("HEAD", f"{PROD}.tar.ab"),
    ]


def test_a_late_december_day_is_found_in_the_next_years_repository():
    day = date(2025, 12, 28)
    tag = "v2025.12.28-planes-readsb-prod-0"
    with FakeArchive() as server:
        server.add_listing(2025, LINE_1129 + "\n")  # its snapshot ends before the day
        server.add_listing(2026, LINE_1228_IN_2026 + "\n" + LINE_1214_MLAT_IN_2026 + "\n")
        server.add_release(2026, tag, DATA, split_at=SPLIT)
        found = find(server, day, split_bytes=SPLIT)
        listings = [s.path for s in server.seen if s.path.endswith(".txt")]
    assert [r.tag for r in found] == [tag]
    assert found[0].preferred and found[0].repository == "adsblol/globe_history_2026"
    assert listings == [listing_path(2025), listing_path(2026)]


def test_probing_finds_the_larger_of_prod_and_staging_split_or_single():
    single, _ = day_tar(n_traces=4)
    with FakeArchive() as server:
        server.add_listing(2025, LINE_1128 + "\n")  # does not list the day
        server.add_release(2025, PROD, single)  # one .tar, smaller
        server.add_release(2025, STAGING, DATA, split_at=SPLIT)
        found = find(server, split_bytes=SPLIT)
    assert [(r.tag, len(r.urls), r.total) for r in found] == [(STAGING, 2, len(DATA)), (PROD, 1, len(single))]
    assert found[1].urls[0].endswith(f"{PROD}.tar")
    assert not any(r.preferred for r in found)


def test_a_listing_that_cannot_be_fetched_still_probes_the_assets():
    with FakeArchive() as server:
        server.add_listing(2025, LINE_1129 + "\n")
        server.fault(listing_path(2025), Fault(drop=True), Fault(status=503))
        server.add_release(2025, STAGING, DATA, split_at=SPLIT)
        dropped = find(server, split_bytes=SPLIT)
        failed = find(server, split_bytes=SPLIT)
    for found in (dropped, failed):
        assert [r.tag for r in found] == [STAGING]
        assert not found[0].preferred and found[0].sizes == (SPLIT, len(DATA) - SPLIT)


def test_each_years_listing_is_fetched_once_across_days():
    listings: dict[int, str] = {}
    with FakeArchive() as server:
        server.add_listing(2025, "\n".join([LINE_1129, LINE_1128]) + "\n")
        server.add_release(2025, STAGING, DATA, split_at=SPLIT)
        tag_1128 = "v2025.11.28-planes-readsb-prod-0"
        server.add_release(2025, tag_1128, DATA, split_at=SPLIT)
        first = find(server, listings=listings, split_bytes=SPLIT)
        second = find(server, date(2025, 11, 28), listings=listings, split_bytes=SPLIT)
        gets = server.requests_for("PREFERRED_RELEASES.txt", "GET")
    assert first[0].tag == STAGING and second[0].tag == tag_1128
    assert len(gets) == 1 and set(listings) == {2025}


def test_a_listed_release_that_is_gone_is_left_out_and_a_lone_aa_is_no_release():
    with FakeArchive() as server:
        server.add_listing(2025, LINE_1129 + "\n")  # names staging, whose assets are gone
        server.files[f"/adsblol/globe_history_2025/releases/download/{PROD}/{PROD}.tar.aa"] = DATA[:SPLIT]
        with pytest.raises(ReleaseNotFound) as caught:
            find(server, split_bytes=SPLIT)  # prod's .ab is missing: not a whole tar
    message = str(caught.value)
    assert f"lists {STAGING}, whose {STAGING}.tar.aa is gone (HTTP 404)" in message


def test_nothing_found_is_one_line_naming_the_day_what_was_tried_and_the_fix():
    with FakeArchive() as server:
        server.add_listing(2025, LINE_1128 + "\n")
        with pytest.raises(ReleaseNotFound) as caught:
            find(server)
        server.fault("globe_history_2025/main/PREFERRED_RELEASES.txt", Fault(drop=True))
        with pytest.raises(ReleaseNotFound) as down:
            find(server)
    message = str(caught.value)
    assert "\n" not in message and caught.value.day == DAY
    assert message.startswith("no adsb.lol release of 2025-11-29 found: ")
    assert "PREFERRED_RELEASES.txt of adsblol/globe_history_2025 does not list it" in message
    assert "HEAD of the prod-0/staging-0 assets in globe_history_2025 found none (4 requests)" in message
    assert message.endswith("download its parts and pass them with --archive PATH")
    assert isinstance(caught.value, ArchiveError)
    assert "could not be fetched" in str(down.value) and "check the network" in str(down.value)


@pytest.mark.parametrize(
    ("day", "says"),
    [(date(2022, 12, 31), "starts in 2023"), (TODAY, "has not ended yet"), (date(2026, 2, 1), "is in the future")],
)
def test_a_day_before_2023_or_not_ended_is_refused_without_a_request(day, says):
    with FakeArchive() as server:
        with pytest.raises(ReleaseNotFound, match=says):
            find(server, day)
        assert server.seen == []


# -- streaming a release


def test_dropped_connections_resume_with_range_and_the_members_come_out_identical():
    with FakeArchive(redirect=True) as server:
        release = release_of(server)
        server.drop(f"{STAGING}.tar.aa", after=5_001, times=2)  # twice in the first part
        server.drop(f"{STAGING}.tar.ab", after=3)  # and early in the second
        sleeps = Sleeps()
        seen_progress: list[int] = []
        got = read_all(release, sleep=sleeps, progress=seen_progress.append)
        aa = [s.range for s in server.requests_for(f"{STAGING}.tar.aa") if s.path.startswith("/adsblol/")]
        ab = [s.range for s in server.requests_for(f"{STAGING}.tar.ab") if s.path.startswith("/adsblol/")]
        sent = dict(server.sent)
    assert got == CONTENT
    assert aa == [None, "bytes=5001-", "bytes=10002-"]
    assert ab == [None, "bytes=3-"]
    # each byte went over the wire once: the bodies sent are back to back and cover each part exactly
    assert sent[f"{STAGING}.tar.aa"] == [(0, 5_001), (5_001, 10_002), (10_002, SPLIT)]
    assert sent[f"{STAGING}.tar.ab"] == [(0, 3), (3, len(DATA) - SPLIT)]
    assert sleeps == [2.0, 2.0, 2.0]  # each resume follows progress: the backoff starts over
    assert seen_progress[-1] == len(DATA) and seen_progress == sorted(seen_progress)


def test_a_reset_connection_and_a_stalled_answer_resume_too():
    stall = threading.Event()
    with FakeArchive() as server:
        release = release_of(server)
        server.drop(f"{STAGING}.tar.aa", after=20_000, reset=True)
        server.drop(f"{STAGING}.tar.ab", after=1_000, stall=stall)  # silent until the test ends
        try:
            with requests.Session() as session:
                parts = open_parts(release, session, sleep=Sleeps(), timeout=(5.0, 0.2))
                got = dict(members(parts, lambda name: True, STAGING))
        finally:
            stall.set()
        ranges = [s.range for s in server.requests_for(f"{STAGING}.tar.ab")]
    assert got == CONTENT
    assert [p.read_bytes for p in parts] == [SPLIT, len(DATA) - SPLIT]
    assert ranges == [None, "bytes=1000-"]


def test_the_second_part_is_requested_only_when_the_first_is_exhausted():
    with FakeArchive() as server:
        release = release_of(server)
        with requests.Session() as session:
            first, second = open_parts(release, session)
            assert server.seen == []  # nothing is requested before it is read
            assert len(first.read()) == SPLIT
            assert [s.path.rsplit("/", 1)[-1] for s in server.seen] == [f"{STAGING}.tar.aa"]
            assert len(second.read()) == len(DATA) - SPLIT
        assert [s.path.rsplit("/", 1)[-1] for s in server.seen] == [f"{STAGING}.tar.aa", f"{STAGING}.tar.ab"]


def test_a_server_that_ignores_range_is_an_error_not_a_second_reading():
    with FakeArchive(ignore_range=True) as server:
        release = release_of(server)
        server.drop(f"{STAGING}.tar.aa", after=4_096)
        with pytest.raises(ArchiveError, match=r"ignored the Range request \(HTTP 200 to bytes=4096-\)"):
            read_all(release, sleep=Sleeps())


def test_a_content_range_that_does_not_start_at_the_offset_is_an_error():
    with FakeArchive() as server:
        release = release_of(server)
        server.drop(f"{STAGING}.tar.aa", after=4_096)
        wrong = {"Content-Range": f"bytes 0-9/{SPLIT}"}
        server.fault(f"{STAGING}.tar.aa", None, Fault(status=206, body="0123456789", headers=wrong))
        with pytest.raises(ArchiveError, match=r"not one starting at 4,096"):
            read_all(release, sleep=Sleeps())


@pytest.mark.parametrize("status", [404, 403])
def test_a_missing_or_forbidden_asset_fails_at_once_naming_its_url(status):
    with FakeArchive() as server:
        release = release_of(server)
        server.fault(f"{STAGING}.tar.aa", Fault(status=status, body="Not Found", content_type="text/plain"))
        sleeps = Sleeps()
        with pytest.raises(ArchiveError) as caught:
            read_all(release, sleep=sleeps)
    assert str(caught.value).startswith(f"{release.urls[0]} answered HTTP {status}")
    assert "--archive PATH" in str(caught.value) and sleeps == []


def test_429_waits_the_retry_after_then_reads():
    with FakeArchive() as server:
        release = release_of(server)
        server.fault(f"{STAGING}.tar.ab", Fault(status=429, body="slow down", headers={"Retry-After": "7"}))
        sleeps = Sleeps()
        assert read_all(release, sleep=sleeps) == CONTENT
    assert sleeps == [7.0]


def test_503_backs_off_exponentially_and_gives_up_when_retries_are_spent():
    with FakeArchive() as server:
        release = release_of(server)
        server.fault(f"{STAGING}.tar.aa", *[Fault(status=503, body="busy")] * 6)
        sleeps = Sleeps()
        with pytest.raises(ArchiveError, match=r"HTTP 503 at byte 0; gave up after 6 failed attempts \(6 in a row\)"):
            read_all(release, sleep=sleeps, backoff_s=1.0, retries=5)
    assert sleeps == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_a_connection_that_drops_before_any_byte_counts_against_the_retries():
    with FakeArchive() as server:
        release = release_of(server)
        server.drop(f"{STAGING}.tar.aa", after=100)
        server.fault(f"{STAGING}.tar.aa", None, *[Fault(drop=True)] * 2)
        sleeps = Sleeps()
        with pytest.raises(ArchiveError, match=r"gave up after 3 failed attempts \(3 in a row\) at byte 100 of "):
            read_all(release, sleep=sleeps, retries=2)
    assert sleeps == [2.0, 4.0]  # the drop after 100 bytes starts a run; two more without a byte end it


def test_a_part_of_another_size_than_listed_is_an_error():
    with FakeArchive() as server:
        release = release_of(server)
        wrong = Release(DAY, STAGING, release.urls, (SPLIT + 1, len(DATA) - SPLIT))
        with pytest.raises(ArchiveError, match=rf"is {SPLIT:,} bytes by its Content-Length, but the release listed"):
            read_all(wrong, sleep=Sleeps())


def test_a_remote_part_reads_alone_and_counts_its_bytes():
    with FakeArchive() as server:
        (url,) = server.add_release(2025, PROD, DATA)
        with requests.Session() as session, RemotePart(url, session, size=len(DATA)) as part:
            assert part.read() == DATA
            assert part.read_bytes == len(DATA) and part.gets == 1
