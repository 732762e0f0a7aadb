"""Enough of a PDF text extractor to read reportlab's output back in tests (no poppler needed).

reportlab writes each page as an ASCII85 + Flate stream; text shown in the CID font
STSong-Light is UTF-16BE inside literal strings, text in Helvetica is Latin-1.
"""

import base64
import re
import zlib

STREAM = re.compile(rb"<<(?P<dict>.*?)>>\s*stream\r?\n(?P<body>.*?)\s*endstream", re.S)
TOKEN = re.compile(rb"/(?P<font>F\d+) [\d.]+ Tf|\((?P<text>(?:\\.|[^\\)])*)\) Tj", re.S)
ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(raw: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(raw):
        if raw[i:i + 1] == b"\\":
            octal = re.match(rb"[0-7]{1,3}", raw[i + 1:i + 4])
            if octal:
                out.append(int(octal.group(), 8))
                i += 1 + len(octal.group())
                continue
            out += ESCAPES.get(raw[i + 1:i + 2], raw[i + 1:i + 2])
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


def pdf_text(data: bytes) -> str:
    """All text shown on the pages, in drawing order, one string per Tj joined by newlines."""
    cid_fonts = {re.search(rb"/Name /(F\d+)", obj).group(1) for obj in re.findall(rb"\bobj\b(.*?)\bendobj\b", data, re.S)
                 if b"/Subtype /Type0" in obj and re.search(rb"/Name /F\d+", obj)}
    pieces = []
    for match in STREAM.finditer(data):
        body = match.group("body")
        if b"ASCII85Decode" in match.group("dict"):
            body = base64.a85decode(body.strip(), adobe=True)
        if b"FlateDecode" in match.group("dict"):
            body = zlib.decompress(body)
        font = None
        for token in TOKEN.finditer(body):
            if token.group("font"):
                font = token.group("font")
                continue
            raw = _unescape(token.group("text"))
            pieces.append(raw.decode("utf-16-be", "replace") if font in cid_fonts else raw.decode("latin-1"))
    return "\n".join(pieces)
