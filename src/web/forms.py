"""Form fields checked by the API's own types and checks, every error kept with its field, so a
page can show all of them at once in its language."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any, get_args, get_origin

import msgspec
from litestar.datastructures import FormMultiDict

from asfmatch.reference.regions import kommuner
from asfmatch.services.approval import WAITING
from asfmatch.services.errors import FieldError
from asfmatch.services.validation import Checker
from asfmatch.web.i18n import SWEDEN

# A CPV code as the typeahead offers it: "90910000-9 Städning"; the code is what counts.
_CPV_IN_TEXT = re.compile(r"^\s*([0-9]{8}(?:-[0-9])?)\b")
# Closing time of a need whose form gave only a date: the end of that day in Sweden.
CLOSING_TIME = time(23, 59)


class FormError(msgspec.Struct, frozen=True):
    """One rejected field: its form name, the catalogue key of the reason, and its values."""

    field: str
    key: str
    params: dict[str, str | int] = msgspec.field(default_factory=dict)


class FormState:
    """Values read from a form (for re-display) and the errors found in them."""

    def __init__(self, form: FormMultiDict) -> None:
        self.form = form
        self.errors: list[FormError] = []

    def raw(self, name: str) -> str:
        """The submitted text of a field, stripped; empty if absent."""
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else ""

    def fail(self, field: str, key: str, **params: str | int) -> None:
        """Record an error of `field`."""
        self.errors.append(FormError(field, key, dict(params)))

    def typed(self, name: str, annotation: Any, value: object) -> Any:
        """`value` converted to the API's type for the field; on failure an error naming the
        constraint it broke (read from the type's own limits), and None."""
        try:
            return msgspec.convert(value, annotation, strict=False)
        except msgspec.ValidationError:
            self.errors.append(_constraint_error(name, annotation, value))
            return None

    def text(self, name: str, annotation: Any, *, required: bool) -> str | None:
        """A text field; blank is an error when required."""
        value = self.raw(name)
        if not value:
            if required:
                self.fail(name, "required")
            return None if required else ""
        result: str | None = self.typed(name, annotation, value)
        return result

    def whole_number(self, name: str, annotation: Any) -> int | None:
        """A whole number, spaces allowed as thousands separators; blank gives None."""
        value = self.raw(name).replace(" ", "").replace("\u00a0", "")
        if not value:
            return None
        if not value.isdigit():
            self.fail(name, "not_a_number")
            return None
        result: int | None = self.typed(name, annotation, int(value))
        return result

    def kommun(self, name: str) -> str | None:
        """A kommun given by code ("2580") or name ("Luleå", any case); required."""
        value = self.raw(name)
        if not value:
            self.fail(name, "required")
            return None
        code = value[:4] if value[:4].isdigit() else _kommun_by_name().get(value.casefold())
        checker = Checker()
        if code is not None:
            checker.kommun(name, code)
        if code is None or checker.errors:
            self.fail(name, "unknown_kommun", value=value)
            return None
        return code

    def kommun_named(self, field: str, value: str) -> str | None:
        """One kommun of a comma-separated list, by name or code; an error on `field` if not."""
        code = value[:4] if value[:4].isdigit() else _kommun_by_name().get(value.casefold())
        checker = Checker()
        if code is not None:
            checker.kommun(field, code)
        if code is None or checker.errors:
            self.fail(field, "unknown_kommun", value=value)
            return None
        return code

    def cpv_codes(self, names: list[str]) -> list[str]:
        """CPV codes from several inputs (blank ones skipped), checked like the API does."""
        codes: list[str] = []
        for name in names:
            value = self.raw(name)
            if not value:
                continue
            found = _CPV_IN_TEXT.match(value)
            checker = Checker()
            checked = checker.cpv_codes(name, [found.group(1)]) if found else []
            if not found or checker.errors:
                self.fail(name, "unknown_cpv", value=value)
                continue
            codes.extend(code for code in checked if code not in codes)
        return codes

    def closing_date(self, name: str) -> datetime | None:
        """A date (YYYY-MM-DD) that closes at 23:59 Swedish time and must lie ahead."""
        value = self.raw(name)
        if not value:
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.fail(name, "not_a_date")
            return None
        moment = datetime.combine(day, CLOSING_TIME, tzinfo=SWEDEN)
        checker = Checker()
        checker.future(name, moment)
        if checker.errors:
            self.fail(name, "past" if moment <= datetime.now(UTC) else "too_far")
            return None
        return moment

    def checkbox(self, name: str) -> bool:
        """True when the box was ticked."""
        return self.raw(name) in {"on", "true", "1", "yes"}

    def add_server_errors(self, errors: list[FieldError], field_names: dict[str, str]) -> None:
        """Errors the services found after the form's own checks, under the form's field names."""
        for error in errors:
            base = error.field.split("[", 1)[0]
            if error.reason == WAITING:
                # A rule the page can say in its own language.
                self.fail(field_names.get(base, base), "pending_approval")
            else:
                self.fail(field_names.get(base, base), "server", reason=error.reason)


def _constraint_error(name: str, annotation: Any, value: object) -> FormError:
    meta = _meta_of(annotation)
    if isinstance(value, str):
        if meta.max_length is not None and len(value) > meta.max_length:
            return FormError(name, "too_long", {"max": meta.max_length})
        if meta.min_length is not None and len(value) < meta.min_length:
            return FormError(name, "too_short", {"min": meta.min_length})
        return FormError(name, "bad_characters")
    if isinstance(value, int):
        low = meta.ge if meta.ge is not None else 0
        high = meta.le if meta.le is not None else value
        return FormError(name, "out_of_range", {"min": int(low), "max": int(high)})
    return FormError(name, "invalid")


def _meta_of(annotation: Any) -> msgspec.Meta:
    """The msgspec.Meta of an Annotated type (or of the Annotated member of a union)."""
    candidates = [annotation, *get_args(annotation)]
    for candidate in candidates:
        for extra in getattr(candidate, "__metadata__", ()):
            if isinstance(extra, msgspec.Meta):
                return extra
        if get_origin(candidate) is not None and candidate is not annotation:
            for inner in get_args(candidate):
                for extra in getattr(inner, "__metadata__", ()):
                    if isinstance(extra, msgspec.Meta):
                        return extra
    return msgspec.Meta()


def _kommun_by_name() -> dict[str, str]:
    return {entry.name.casefold(): code for code, entry in kommuner().items()}
