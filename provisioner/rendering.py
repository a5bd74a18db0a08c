"""Template environment shared by every vendor module (pure: reads packaged templates only).

Config text is not HTML, so autoescape is off and every template escapes deliberately for
its format with one of the filters below. StrictUndefined makes a missing value fail loudly.
"""

from __future__ import annotations

import re
from functools import lru_cache

import jinja2

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile(r"[\r\n\u0085\u2028\u2029]+")


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
    env = jinja2.Environment(
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
