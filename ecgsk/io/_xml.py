"""Safe XML parsing shared by the XML readers, and sniffing which format a ``.xml`` file is.

GE MUSE, HL7 aECG and Philips SierraECG files all end in ``.xml``; the root
element tells them apart (``RestingECG``, ``AnnotatedECG``,
``restingecgdata``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_ROOT = re.compile(r"<([A-Za-z_][\w.:-]*)")
_SKIP = re.compile(r"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", re.S)


def local_name(tag: str) -> str:
    """``'{urn:hl7-org:v3}AnnotatedECG'`` -> ``'AnnotatedECG'``."""
    return tag.rsplit("}", 1)[-1]


def decode_xml(data: bytes, path) -> str:
    """The text of an XML file: BOM first, else the declared encoding, else UTF-8.

    Some exports declare ``encoding="utf-16"`` but are stored as single bytes
    (seen in Philips files); a UTF-16 declaration without BOM whose bytes hold
    no NUL is read as UTF-8.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(codec)
    if data[:2] in (b"<\x00", b"\x00<"):  # UTF-16 without BOM
        return data.decode("utf-16-le" if data[0] == 0x3C else "utf-16-be")
    declared = _DECLARED.match(data[:200])
    codec = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    if codec.replace("-", "").startswith("utf16"):
        codec = "utf-8"
    try:
        return data.decode(codec)
    except LookupError:
        raise ValueError(f"{path}: unknown XML encoding {codec!r}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: the file is not valid {codec} text ({exc})") from exc


def parse_xml(path: Path, what: str) -> ET.Element:
    """Parse ``path`` safely (no entity declarations, no DTD or network access).

    The stdlib parser never fetches external entities or DTDs; entity
    declarations (the one XML feature that can blow up memory, and one no ECG
    format uses) are refused outright.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} file {path} not found") from None
    text = decode_xml(data, path)
    if "<!ENTITY" in text:
        raise ValueError(f"{path}: XML entity declarations are not accepted in an ECG file")
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"{path} is not well-formed XML (truncated or corrupt file?): {exc}") from exc


def xml_root_name(path: Path) -> str | None:
    """The local name of the root element of an XML file (from its first 64 KiB), or None."""
    with open(path, "rb") as f:
        head = f.read(65536)
    try:
        text = decode_xml(head, path)
    except (ValueError, UnicodeDecodeError):
        text = head.decode("latin-1")
    found = _ROOT.search(_SKIP.sub("", text))
    return local_name(found.group(1).split(":")[-1]) if found else None
