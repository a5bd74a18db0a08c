"""Template environment and template choice shared by every vendor (pure: reads packaged templates only).

Config text is not HTML, so autoescape is off and every template escapes deliberately for
its format with one of the filters below. StrictUndefined makes a missing value fail loudly.

Templates live in templates/phones/<vendor folder>/: a base per vendor family, and model
templates that extend it with only their differences. `template_chain` is the one fallback
rule every vendor uses: the catalog's choice, then the model's own, then the family base.
"""

from __future__ import annotations

import re
from functools import lru_cache

import jinja2

from firmware_catalog import CatalogEntry

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile(r"[\r\n\u0085\u2028\u2029]+")
_SLUG = re.compile(r"[a-z0-9]+")


def xml_text(value: object) -> str:
    """Escape for XML element text and attribute values (quotes included).

    Control characters are not allowed in XML 1.0 at all, so they are dropped; line
    breaks become spaces so an attribute never spans lines.
    """
    text = _LINE_BREAKS.sub(" ", _CONTROL.sub("", str(value)))
    for character, entity in _XML_ENTITIES:  # '&' first, so no entity is escaped twice
        if character in text:
            text = text.replace(character, entity)
    return text


_XML_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&apos;"), ("\t", "&#9;"))


def kv_value(value: object) -> str:
    """Make a value safe on the right-hand side of a `key = value` line.

    Line breaks and control characters would let a staff name add or end a line, so they
    become a space / are dropped. Leading/trailing spaces are trimmed (phones trim them).
    """
    return _CONTROL.sub("", _LINE_BREAKS.sub(" ", str(value))).strip()


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one compiled-template environment (templates compile once per process)."""
    env = jinja2.Environment(  # nosec B701 - phone configs are not HTML: each template escapes for its format (xml, kv filters)
        loader=jinja2.PackageLoader("provisioner", "phone_templates")
        if _installed_templates()
        else jinja2.FileSystemLoader(_source_templates_dir()),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # packaged templates never change under a running server: no stat per render
    )
    env.filters["xml"] = xml_text
    env.filters["kv"] = kv_value
    return env


@lru_cache(maxsize=256)
def select_template(names: tuple[str, ...]) -> jinja2.Template:
    """The first of `names` that exists. Remembered: a missing model template would otherwise
    cost a loader lookup and an exception at every render."""
    return environment().select_template(list(names))


def template_chain(folder: str, base: str, entry: CatalogEntry | None) -> tuple[str, ...]:
    """Templates to try, most specific first: the catalog's choice -> the model's -> the family base.

    The catalog's choice counts only when it names a template file in the vendor's folder
    ("polycom/ip550.j2"); a bare family name such as "grandstream" says no more than the chain
    already does. The model's template is <folder>/<model slug>.j2, tried only when the slug is
    one plain word (a catalog key never names a path). No entry (a family-wide file): the base.
    """
    if entry is None:
        return (f"{folder}/{base}",)
    chain = []
    if entry.template and entry.template.startswith(f"{folder}/") and entry.template.endswith(".j2"):
        chain.append(entry.template)
    slug = model_slug(entry)
    if _SLUG.fullmatch(slug):
        chain.append(f"{folder}/{slug}.j2")
    chain.append(f"{folder}/{base}")
    return tuple(dict.fromkeys(chain))


def model_slug(entry: CatalogEntry) -> str:
    """The catalog key without its vendor: "polycom-vvx600" -> "vvx600"."""
    return entry.key.removeprefix(f"{entry.vendor}-").lower()


def xml_element(key: str, value: object) -> str:
    """<key>escaped value</key>: a plain function for templates, several times cheaper per call
    than a Jinja macro (Grandstream writes ~50 P-values per file)."""
    return f"<{key}>{xml_text(value)}</{key}>"


def render_template(name: str, **context: object) -> str:
    return environment().get_template(name).render(**context)


def _installed_templates() -> bool:
    import importlib.util

    return importlib.util.find_spec("provisioner.phone_templates") is not None


def _source_templates_dir() -> str:
    # Running from a source checkout: templates/phones sits beside the provisioner package.
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent / "templates" / "phones")
