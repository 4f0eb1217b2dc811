"""Notice documents from files, folders, .zip archives and stdin, and parsing them."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import msgspec

from asfmatch.notices.eforms import NoticeParseError, looks_like_eforms, parse_eforms
from asfmatch.notices.model import Notice
from asfmatch.notices.ocds import OcdsError, parse_ocds
from asfmatch.notices.screening import Skip

# A notice is tens of kilobytes; an OCDS bulk file can be large but not this large.
MAX_DOCUMENT_BYTES = 200_000_000
SUFFIXES = (".xml", ".json")
STDIN = "-"


class Document(msgspec.Struct, frozen=True):
    """One notice file's bytes and the name to report it by."""

    name: str
    raw: bytes


def _from_zip(name: str, raw: bytes) -> Iterator[Document | Skip]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        yield Skip(file=name, reason="unparseable: not a valid .zip archive")
        return
    with archive:
        for member in archive.infolist():
            member_name = f"{name}:{member.filename}"
            if member.is_dir() or not member.filename.lower().endswith(SUFFIXES):
                continue
            # The size in the header can lie; read at most one byte past the limit to be sure.
            with archive.open(member) as handle:
                data = handle.read(MAX_DOCUMENT_BYTES + 1)
            if len(data) > MAX_DOCUMENT_BYTES:
                yield Skip(file=member_name, reason="unparseable: larger than 200 MB")
                continue
            yield Document(member_name, data)


def _from_bytes(name: str, raw: bytes) -> Iterator[Document | Skip]:
    if raw.startswith(b"PK\x03\x04"):
        yield from _from_zip(name, raw)
    else:
        yield Document(name, raw)


def read_documents(
    paths: Sequence[str], stdin: BinaryIO | None = None
) -> Iterator[Document | Skip]:
    """Every notice document under `paths` (files, folders searched for .xml/.json/.zip, `-`
    for stdin), in a stable order; what cannot be read comes back as a Skip."""
    for given in paths:
        if given == STDIN:
            if stdin is not None:
                yield from _from_bytes("<stdin>", stdin.read())
            continue
        path = Path(given)
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in (*SUFFIXES, ".zip")
            )
        elif path.exists():
            files = [path]
        else:
            yield Skip(file=given, reason="unparseable: no such file or folder")
            continue
        for file in files:
            try:
                if file.stat().st_size > MAX_DOCUMENT_BYTES:
                    yield Skip(file=str(file), reason="unparseable: larger than 200 MB")
                    continue
                raw = file.read_bytes()
            except OSError as error:
                yield Skip(file=str(file), reason=f"unparseable: cannot read ({error.strerror})")
                continue
            yield from _from_bytes(str(file), raw)


def parse_document(document: Document) -> list[Notice | Skip]:
    """The notices in one document (one for eForms, one per release for OCDS), or why not."""
    if looks_like_eforms(document.raw):
        try:
            return [parse_eforms(document.raw)]
        except NoticeParseError as error:
            return [Skip(file=document.name, reason=f"unparseable: {error}", where=error.xpath)]
    try:
        parsed = parse_ocds(document.raw)
    except OcdsError as error:
        return [Skip(file=document.name, reason=f"unparseable: {error}", where=error.path)]
    return [
        Skip(file=document.name, reason=f"unparseable: {item}", where=item.path)
        if isinstance(item, OcdsError)
        else item
        for item in parsed
    ]
