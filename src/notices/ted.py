"""The TED Search API v3 (anonymous): Swedish notices page by page, and each notice's XML.

POST {search_url} with an expert query, the fields wanted, `limit` (at most 250) and
`paginationMode: ITERATION`; each answer carries `iterationNextToken` for the next page
(https://docs.ted.europa.eu/api/latest/search.html)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import httpx
import msgspec

MAX_LIMIT = 250
FIELDS = ("publication-number", "publication-date", "notice-type", "links")
NOTICE_XML_URL = "https://ted.europa.eu/en/notice/{}/xml"
# A notice is tens of kilobytes; refuse anything absurd rather than hold it in memory.
MAX_NOTICE_BYTES = 20_000_000


class TedUnavailable(Exception):
    """TED could not be reached or answered with an error; the message says which."""


class TedRejected(TedUnavailable):
    """TED refused the request (4xx): a bad query, or an iteration token it no longer knows."""


class TedHit(msgspec.Struct, frozen=True, kw_only=True):
    """One notice in a search answer: its publication number and where its XML is."""

    publication_number: str
    published: date | None
    xml_url: str


class TedPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of a search: its notices, the total, and the token of the next page."""

    hits: list[TedHit]
    total: int | None
    next_token: str | None


def search_query(since: date, cpv_prefixes: Sequence[str] = ()) -> str:
    """The expert query for notices of Swedish buyers published on or after `since`, optionally
    only those with a CPV code under one of `cpv_prefixes` (digits, e.g. "9091")."""
    query = f"buyer-country=SWE AND publication-date>={since:%Y%m%d}"
    if cpv_prefixes:
        codes = " OR ".join(f"classification-cpv={prefix}*" for prefix in cpv_prefixes)
        query += f" AND ({codes})"
    return query + " SORT BY publication-number ASC"


def _published(raw: object) -> date | None:
    text = raw[0] if isinstance(raw, list) and raw else raw
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _xml_url(links: object, number: str) -> str:
    xml = links.get("xml") if isinstance(links, dict) else None
    if isinstance(xml, dict):
        for language in ("MUL", "SWE", "ENG", *xml):
            url = xml.get(language)
            if isinstance(url, str) and url.startswith(("http://", "https://")):
                return url
    return NOTICE_XML_URL.format(number)


def parse_page(document: Any) -> TedPage:
    """A search answer as a page; TedUnavailable when it is not the shape TED sends."""
    if not isinstance(document, dict) or not isinstance(document.get("notices"), list):
        raise TedUnavailable("TED answered with something that is not a search result")
    hits = []
    for item in document["notices"]:
        if not isinstance(item, dict):
            continue
        number = item.get("publication-number")
        if not isinstance(number, str) or not number:
            continue
        hits.append(
            TedHit(
                publication_number=number,
                published=_published(item.get("publication-date")),
                xml_url=_xml_url(item.get("links"), number),
            )
        )
    total = document.get("totalNoticeCount")
    token = document.get("iterationNextToken")
    return TedPage(
        hits=hits,
        total=total if isinstance(total, int) else None,
        next_token=token if isinstance(token, str) and token else None,
    )


def http_client(timeout_seconds: float) -> httpx.AsyncClient:
    """An httpx client for TED: a timeout on every request, no redirects to elsewhere."""
    return httpx.AsyncClient(
        timeout=timeout_seconds,
        follow_redirects=True,
        headers={"User-Agent": "asf-match notice import (+https://github.com/asf-match)"},
    )


class TedClient:
    """Search and download over one httpx client (the caller owns and closes it)."""

    def __init__(self, http: httpx.AsyncClient, search_url: str) -> None:
        self.http = http
        self.search_url = search_url

    async def search(self, query: str, token: str | None, limit: int = MAX_LIMIT) -> TedPage:
        """One page of `query`: the first without a token, the next ones with the last token."""
        body: dict[str, Any] = {
            "query": query,
            "fields": list(FIELDS),
            "limit": min(limit, MAX_LIMIT),
            "scope": "ALL",
            "paginationMode": "ITERATION",
        }
        if token is not None:
            body["iterationNextToken"] = token
        response = await self._send("POST", self.search_url, json=body)
        try:
            return parse_page(msgspec.json.decode(response.content))
        except msgspec.DecodeError:
            raise TedUnavailable(
                "TED answered the search with something that is not JSON"
            ) from None

    async def notice_xml(self, hit: TedHit) -> bytes:
        """The eForms XML of one notice."""
        response = await self._send("GET", hit.xml_url)
        if len(response.content) > MAX_NOTICE_BYTES:
            raise TedUnavailable(f"notice {hit.publication_number} is larger than 20 MB")
        return response.content

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.http.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise TedUnavailable(f"TED did not answer in time ({url})") from None
        except httpx.HTTPError as error:
            raise TedUnavailable(
                f"cannot reach TED at {url} ({type(error).__name__}: {error}); are we offline?"
            ) from None
        if 400 <= response.status_code < 500:
            raise TedRejected(
                f"TED refused {method} {url} ({response.status_code}): {response.text[:300]}"
            )
        if response.status_code >= 500:
            raise TedUnavailable(
                f"TED answered {response.status_code} to {method} {url}: {response.text[:300]}"
            )
        return response
