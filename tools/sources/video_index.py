"""True frame numbers of a video file, read from its container's index (optional PyAV).

A damaged stretch in the middle of a video makes the demuxer skip the frames stored there and
resynchronise after it; a decoder that counts the frames it gets then numbers every later frame
too low, pairing it with the detections and ground truth of another (measured on a damaged copy
of PETS09-S2L1 in docs/reliability.md). The container's index (AVI's idx1, MP4's sample table)
still says where each frame was stored: a packet's byte position places it in the index, and
its place in the index is its frame number.

:func:`scan_frame_index` reads only the packets (no decoding; its cost against decoding is in
docs/reliability.md) and returns the demuxer's timestamps mapped to true frame numbers and the
frames no packet was found for. It needs PyAV (``pip install 'cosmot[video]'``;
supervision installs it too); without it, or for a file without an index, it returns ``None``
and the caller counts frames as before.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass, field

# A packet starts at most this many bytes after its index entry's position (AVI's entries point
# at the chunk header, 8 bytes before the data; MP4's at the data itself).
_HEADER_SLACK = 32


@dataclass
class FrameIndex:
    """Where a video's frames are: ``numbers`` maps the demuxer's timestamp of each packet it
    read to that frame's true 1-based number; ``lost`` lists runs ``(first, last, byte)`` of
    frames the index holds but the demuxer never delivered (``byte``: where the first one was
    stored); ``total`` is the index's frame count."""

    numbers: dict[int, int]
    total: int
    lost: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def lost_count(self) -> int:
        return sum(b - a + 1 for a, b, _ in self.lost)

    def describe_lost(self, path: str, shown: int = 5) -> str:
        runs = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b, _ in self.lost[:shown])
        more = ", ..." if len(self.lost) > shown else ""
        return (f"{path}: {self.lost_count} frames of the {self.total} in its index cannot be "
                f"read (frames {runs}{more}; damaged data from byte {self.lost[0][2]}); later "
                f"frames keep their own numbers and tracking runs through the gap without "
                f"detections. Re-copy the file if a good copy exists")


def scan_frame_index(path: str | os.PathLike) -> FrameIndex | None:
    """The true frame numbers of ``path``'s first video stream from its index (see the module
    docstring), or ``None`` when PyAV is missing, cannot open the file, the stream has no
    index, or a packet cannot be placed in it."""
    try:
        import av
    except ImportError:
        return None
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError):
        return None
    with container:
        if not container.streams.video:
            return None
        stream = container.streams.video[0]
        entries = sorted((e.timestamp, e.pos) for e in stream.index_entries if not e.is_discard)
        if len(entries) < 2:
            return None
        # frame number = place in timestamp order; packets are found by byte position
        by_pos = sorted((pos, k) for k, (_, pos) in enumerate(entries, start=1))
        positions = [p for p, _ in by_pos]
        numbers: dict[int, int] = {}
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or packet.pts is None or packet.pos is None or packet.pos < 0:
                    continue
                i = bisect.bisect_right(positions, packet.pos) - 1
                if i < 0 or packet.pos - positions[i] > _HEADER_SLACK:
                    return None  # a packet the index does not hold: cannot place frames
                numbers[int(packet.pts)] = by_pos[i][1]
        except av.FFmpegError:
            pass  # the demuxer gave up: what it read is placed, the rest is lost
    if len(set(numbers.values())) != len(numbers):
        return None  # two packets in one index entry: the index does not describe the file
    got = sorted(set(numbers.values()))
    lost = []
    expected = 1
    pos_of = {k: p for p, k in by_pos}
    for k in got + [len(entries) + 1]:
        if k > expected and got and expected <= got[-1]:
            lost.append((expected, k - 1, pos_of[expected]))
        expected = k + 1
    return FrameIndex(numbers=numbers, total=len(entries), lost=lost)
