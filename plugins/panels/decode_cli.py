"""``ecrin decode PROTOCOL [FILE]``: decode a capture offline, one JSON event per line.

An installer captures what a panel sends (a serial log, a receiver printout, a packet
dump of DC-09 frames) and replays it through the same decoders the hub runs. Every
decoded event is printed as the JSON the journal would store; everything that could
not be decoded is reported on stderr, one line each with the reason, and decoding goes
on with the next good frame. Offline means no clock: DC-09 timestamps are not checked
against a window and no answers are built.

The panels plugin adds it to ``ecrin`` through the ``register_commands`` hook
(``decode_command``); ``python -m plugins.panels.decode_cli PROTOCOL [FILE]`` runs it
without the hub's command line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, TextIO

from hub.sdk import Command, CommandContext, LineDecoder, Rejected
from plugins.panels.ad2 import Ad2Decoder
from plugins.panels.contact_id import ContactIdLineDecoder
from plugins.panels.dsc_it100 import It100Decoder
from plugins.panels.sia_dc09 import Dc09StreamDecoder

__all__ = ["DEVICE", "PROTOCOLS", "decode_command", "decode_main", "main"]

#: The device id put on events decoded offline.
DEVICE = "decode"

_CHUNK = 4096


def _contact_id(keys: Mapping[str, str] | None) -> LineDecoder:
    return ContactIdLineDecoder(DEVICE)


def _it100(keys: Mapping[str, str] | None) -> LineDecoder:
    return It100Decoder(DEVICE)


def _ad2(keys: Mapping[str, str] | None) -> LineDecoder:
    return Ad2Decoder(DEVICE)


def _dc09(keys: Mapping[str, str] | None) -> LineDecoder:
    return Dc09StreamDecoder(DEVICE, keys=keys, now=None)


#: Protocol names accepted on the command line, and the decoder each one uses.
PROTOCOLS: Mapping[str, Callable[[Mapping[str, str] | None], LineDecoder]] = {
    "contact-id": _contact_id,
    "dsc-it100": _it100,
    # The Envisalink's TPI speaks IT-100 after its login (which the decoder skips as
    # frames it does not know): a capture of either decodes the same way.
    "envisalink": _it100,
    "ad2": _ad2,
    "sia-dc09": _dc09,
}


def _report(rejects: Sequence[Rejected], err: TextIO) -> None:
    for item in rejects:
        err.write(f"skipped: {item.reason}: {item.raw!r}\n")


def decode_main(
    protocol: str,
    stream: BinaryIO,
    out: TextIO,
    err: TextIO,
    *,
    keys: Mapping[str, str] | None = None,
) -> int:
    """Decode ``stream`` with ``protocol``'s decoder; print events to ``out``.

    Args:
        protocol: one of ``PROTOCOLS``.
        stream: the raw bytes (a file opened in binary mode, or stdin's buffer).
        out: one JSON object per event (``Event.to_dict``).
        err: one line per skipped frame, with the reason.
        keys: DC-09 account keys, for encrypted captures.

    Returns:
        0 when the input was read (even with skipped frames), 2 for an unknown
        protocol.
    """
    factory = PROTOCOLS.get(protocol)
    if factory is None:
        known = ", ".join(PROTOCOLS)
        err.write(f"unknown protocol {protocol!r}; known protocols: {known}\n")
        return 2
    decoder = factory(keys)
    while chunk := stream.read(_CHUNK):
        for event in decoder.feed(chunk):
            out.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
        _report(decoder.rejects(), err)
    for event in decoder.finish():
        out.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
    _report(decoder.rejects(), err)
    out.flush()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: ``PROTOCOL [FILE]`` (stdin when FILE is absent or ``-``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not 1 <= len(args) <= 2:
        known = ", ".join(PROTOCOLS)
        sys.stderr.write(f"usage: ecrin decode PROTOCOL [FILE]  (PROTOCOL: {known})\n")
        return 2
    if args[0] not in PROTOCOLS:
        return decode_main(args[0], sys.stdin.buffer, sys.stdout, sys.stderr)
    if len(args) == 1 or args[1] == "-":
        return decode_main(args[0], sys.stdin.buffer, sys.stdout, sys.stderr)
    try:
        with open(args[1], "rb") as stream:
            return decode_main(args[0], stream, sys.stdout, sys.stderr)
    except OSError as exc:
        sys.stderr.write(f"cannot read {args[1]}: {exc.strerror or exc}\n")
        return 1


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("protocol", help=f"one of: {', '.join(PROTOCOLS)}")
    parser.add_argument("file", nargs="?", type=Path, help="the capture (default: stdin)")


def _run(args: argparse.Namespace, ctx: CommandContext) -> int:
    if args.file is None:
        return decode_main(args.protocol, ctx.stdin, ctx.out, ctx.err)
    try:
        with args.file.open("rb") as stream:
            return decode_main(args.protocol, stream, ctx.out, ctx.err)
    except OSError as exc:
        ctx.err.write(f"ecrin decode: cannot read {args.file}: {exc.strerror or exc}\n")
        return 2


def decode_command() -> Command:
    """``ecrin decode PROTOCOL [FILE]``, for the ``register_commands`` hook."""
    return Command(
        name="decode",
        help="decode raw panel bytes into events (JSON lines)",
        description="Decode a capture of what a panel sent, with the hub's own decoders:"
        " one JSON event per line on stdout, one line per skipped frame on stderr.",
        add_arguments=_add_arguments,
        run=_run,
    )


if __name__ == "__main__":
    sys.exit(main())
