"""A day's tar read as one stream from its parts: members straddling the split are read whole; a
truncated, damaged or incomplete day is one error naming it. Real tar files, built here."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from monitor.sources.archive.tarstream import ArchiveError, members

DAY = "v2025.11.29-planes-readsb-staging-0"


def _day_tar(tmp_path: Path, n_traces: int = 40) -> tuple[bytes, dict[str, bytes]]:
    """A tar laid out as readsb's history day (``./`` names), with members of odd sizes."""
    content = {"README.txt": b"adsb.lol globe_history day\n"}
    for k in range(n_traces):
        content[f"traces/{k:02x}/trace_full_0d{k:04x}.json"] = bytes([k % 251]) * (997 * (k + 1))
    for half_hour in range(3):
        content[f"heatmap/{half_hour:02d}.bin.ttf"] = bytes(range(256)) * (40 + half_hour)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        tar.add(tmp_path, arcname=".", recursive=False)
        for name, data in content.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue(), content


def _split(data: bytes, at: int) -> list[io.BytesIO]:
    return [io.BytesIO(data[:at]), io.BytesIO(data[at:])]


def test_a_split_day_reads_whole_including_the_member_across_the_split(tmp_path):
    data, content = _day_tar(tmp_path)
    at = len(data) // 2 + 7  # an odd byte, inside a member
    got = dict(members(_split(data, at), lambda name: True, DAY))
    assert got == content
    assert dict(members([io.BytesIO(data)], lambda name: name.startswith("heatmap/"), DAY)) == {
        k: v for k, v in content.items() if k.startswith("heatmap/")
    }


@pytest.mark.parametrize("cut", ["mid-member", "between members", "before the end blocks"])
def test_a_truncated_day_or_a_missing_part_is_an_error_naming_the_day(tmp_path, cut):
    data, _ = _day_tar(tmp_path)
    header = data.index(b"./heatmap/01.bin.ttf")  # a member's header block starts here
    at = {"mid-member": header + 700, "between members": header, "before the end blocks": len(data) - 10240}[cut]
    with pytest.raises(ArchiveError, match=rf"^{DAY}: .*(truncated|stops|not a readable tar)"):
        list(members([io.BytesIO(data[:at])], lambda name: True, DAY))  # the .ab part is missing


def test_a_damaged_header_or_an_empty_part_list_is_an_error(tmp_path):
    data, _ = _day_tar(tmp_path)
    header = data.index(b"./traces/05/")  # a member's header, after the first
    broken = data[:header] + b"\xff" * 512 + data[header + 512 :]
    with pytest.raises(ArchiveError, match=rf"^{DAY}: the tar stops at a damaged header at byte {header:,}"):
        list(members([io.BytesIO(broken)], lambda name: True, DAY))
    zeroed = data[:header] + bytes(1024) + data[header + 1024 :]  # an end-of-archive mark mid-file
    with pytest.raises(ArchiveError, match=rf"^{DAY}: the tar stops"):
        list(members([io.BytesIO(zeroed)], lambda name: True, DAY))
    with pytest.raises(ArchiveError, match=rf"^{DAY}: the archive is empty"):
        list(members([], lambda name: True, DAY))


@pytest.mark.parametrize("where", ["the last two thirds", "one header and its data", "the last member"])
def test_zeros_where_members_were_are_an_error_not_a_quiet_end(tmp_path, where):
    """A pre-allocated or half-resumed download has the right size and zeros where it stopped;
    tarfile takes the first zero block for the end of the archive and would drop the rest."""
    data, _ = _day_tar(tmp_path, n_traces=200)
    if where == "the last two thirds":
        at = len(data) // 3 // 512 * 512
        zeroed = data[:at] + bytes(len(data) - at)
    else:
        name = b"./traces/05/" if where == "one header and its data" else b"./heatmap/02.bin.ttf"
        at = data.index(name)
        zeroed = data[:at] + bytes(1024 + 5 * 997) + data[at + 1024 + 5 * 997 :]
    with pytest.raises(ArchiveError, match=rf"^{DAY}: the tar stops at zeros from byte [\d,]+ of {len(data):,}"):
        list(members([io.BytesIO(zeroed)], lambda name: True, DAY))  # from the first header that is zeros


def test_a_lone_zero_block_at_the_end_is_an_error(tmp_path):
    data, _ = _day_tar(tmp_path)
    end = -(-len(data.rstrip(b"\0")) // 512) * 512  # just after the last member's data
    with pytest.raises(ArchiveError, match=rf"^{DAY}: the tar stops at a lone zero block"):
        list(members([io.BytesIO(data[: end + 512])], lambda name: True, DAY))
