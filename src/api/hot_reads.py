"""The two hot cached reads answered as soon as the request is counted, without the route
handler's machinery (dependency injection, guards, response objects), when a trusted cache entry
answers them: a match list for a caller allowed to read it (a matched supplier: its own row), and an anonymous needs-list
page. These are the requests a busy deployment serves most, and on a hit the handler would do
nothing but decide the same thing more slowly.

Who may read what is decided by the same service functions the handlers call
(services.matches.cached_need_matches and cached_supplier_matches), and whatever they do not
answer (a miss, an entry not trusted, a supplier whose profile its key's lookup did not know, a
refusal, which needs the handler's error response) goes on to the handler, which decides again."""

from __future__ import annotations

from asfmatch.api.state import AppResources, Prefetched, PrefetchedNeeds
from asfmatch.services import matches as service
from asfmatch.services.errors import DomainError
from asfmatch.storage.organisations import Principal


def cached_list_body(
    app: AppResources, principal: Principal | None, found: Prefetched
) -> bytes | None:
    """The match list's JSON from its fetched entry if the caller may read it and it is
    trusted; None to let the handler answer."""
    try:
        if found.owner == "need":
            return service.cached_need_matches(app.lists, principal, found.owner_id, found.found)
        return service.cached_supplier_matches(app.lists, principal, found.owner_id, found.found)
    except DomainError:
        return None


def cached_page_body(app: AppResources, found: PrefetchedNeeds) -> bytes | None:
    """The needs-list page's JSON from its fetched entry if it is trusted; None to let the
    handler answer. Only pages the handler stored (anonymous, cacheable) are ever fetched."""
    cached = app.needs_list.parse(found.counter, found.entry)
    if cached is None or not app.lists.trusts_needs_list(cached[0], cached[1]):
        return None
    return cached[2]
