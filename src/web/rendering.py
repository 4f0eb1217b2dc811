"""Jinja templates through Litestar: one environment, helpers for names of places and codes."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from litestar.datastructures import Cookie
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from asfmatch.reference.cpv import cpv_catalog
from asfmatch.reference.regions import WHOLE_COUNTRY, kommuner, lan
from asfmatch.web.i18n import Translator
from asfmatch.web.sweden_map import sweden_map
from asfmatch.web.visitor import CSRF_FIELD, Visitor


def kommun_name(code: str | None) -> str:
    """ "Luleå" for 2580; the code itself if unknown."""
    if code is None:
        return "–"
    found = kommuner().get(code)
    return found.name if found else code


def kommun_list(codes: list[str] | tuple[str, ...]) -> str:
    """ "Luleå, Boden" for a joint procurement's kommun codes."""
    return ", ".join(kommun_name(code) for code in codes) or "–"


def lan_name(code: str) -> str:
    """ "Norrbottens län" for 25."""
    found = lan().get(code)
    return found.name if found else code


def area_name_in(code: str, t: Translator) -> str:
    """A service-area code (kommun, län or SE) as a place name."""
    if code == WHOLE_COUNTRY:
        return t("common.whole_country")
    return lan_name(code) if len(code) == 2 else kommun_name(code)


def area_name(code: str, visitor: Visitor) -> str:
    """A service-area code as a place name in the visitor's language."""
    return area_name_in(code, visitor.t)


def cpv_label(code: str, language: str) -> str:
    """The CPV code's label in the page's language."""
    found = cpv_catalog().get(code)
    if found is None:
        return code
    return found.label_en if language == "en" else found.label_sv


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """The templates packaged in asfmatch.web, HTML-escaped, failing loudly on a missing name."""
    environment = Environment(
        loader=PackageLoader("asfmatch.web", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(
        kommun_name=kommun_name,
        kommun_list=kommun_list,
        lan_name=lan_name,
        area_name=area_name,
        cpv_label=cpv_label,
        sweden_map=sweden_map,
        all_lan=lambda: sorted(lan().values(), key=lambda entry: entry.name),
        all_kommuner=lambda: sorted(kommuner().values(), key=lambda entry: entry.name),
        csrf_field=CSRF_FIELD,
    )
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


def page(
    visitor: Visitor,
    name: str,
    *,
    status: int = 200,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Template:
    """Render `name` with the visitor, its translator and `context`."""
    return Template(
        template_name=name,
        context={"visitor": visitor, "t": visitor.t, "lang": visitor.language, **context},
        status_code=status,
        cookies=cookies or [],
        headers=PAGE_HEADERS,
    )


# Pages load only their own files; htmx needs no eval. Inline styles are not used either.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
