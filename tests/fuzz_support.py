"""Hostile inputs and the walk over every route, form and field, for the no-5xx fuzz tests."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

# Values people (or scripts) send that once made pages answer 500.
HOSTILE = [
    "\ud800",  # a lone surrogate: not valid Unicode
    "sNaN",
    "NaN",
    "-Infinity",
    "Infinity",
    "1e999999",
    "9" * 20,
    "-" + "9" * 20,
    "0",
    "-1",
    "",
    " ",
    "x" * 5000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\x00",
    "2024-13-45",
    "0000-00-00",
    "9999-12-31",
]
# What an int URL parameter or page number can be made of.
HOSTILE_INTS = ["0", "9" * 20, "1"]


def encode(value: str) -> str:
    """Percent-encode ``value`` as a browser would, lone surrogates included."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def form_body(fields: dict[str, list[str]]) -> bytes:
    """Return an urlencoded body of ``fields`` (repeated names allowed)."""
    return "&".join(
        f"{encode(name)}={encode(value)}"
        for name, values in fields.items()
        for value in values
    ).encode("ascii")


def query_string(fields: dict[str, list[str]]) -> str:
    """Return a query string of ``fields`` (percent-encoded, surrogates and all)."""
    return form_body(fields).decode("ascii")


@dataclass
class Form:
    """One form of a page: where it goes, how, and its fields with default values."""

    action: str
    method: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


class FormParser(HTMLParser):
    """Collect every <form> of a page with its input, select and textarea names."""

    def __init__(self, page_path: str) -> None:
        super().__init__()
        self.page_path = page_path
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        """Open forms, record fields."""
        attrs = dict(attrs)
        if tag == "form":
            action = attrs.get("action") or self.page_path
            self.forms.append(Form(action, (attrs.get("method") or "get").lower()))
            return
        if not self.forms:
            return
        form = self.forms[-1]
        name = attrs.get("name")
        if tag == "input" and name:
            if attrs.get("type") == "file":
                form.files.append(name)
            elif attrs.get("type") in ("checkbox", "radio"):
                form.fields.setdefault(name, [attrs.get("value") or "on"])
            else:
                form.fields.setdefault(name, []).append(attrs.get("value") or "")
        elif tag in ("select", "textarea") and name:
            form.fields.setdefault(name, [""])
            self._select = name if tag == "select" else None
        elif tag == "option" and self._select and attrs.get("value"):
            values = form.fields[self._select]
            if values == [""]:
                values[0] = attrs["value"]

    def handle_endtag(self, tag):
        """Close selects."""
        if tag == "select":
            self._select = None


def forms_of(page_path: str, html: str) -> list[Form]:
    """Return the forms of a page."""
    parser = FormParser(page_path)
    parser.feed(html)
    return [f for f in parser.forms if urlsplit(f.action).netloc == ""]


def hostile_variants(form: Form) -> list[tuple[dict[str, list[str]], dict]]:
    """Return (fields, files) to send: each hostile value in every field, then one by one."""
    variants = []
    for value in HOSTILE:
        everywhere = {name: [value] for name in form.fields}
        # Keep the CSRF token (when forms carry one) so the view itself is reached.
        for keep in ("csrf_token",):
            if keep in form.fields:
                everywhere[keep] = form.fields[keep]
        variants.append((everywhere, {}))
    for name in form.fields:
        for value in HOSTILE[:9]:
            variants.append(({**form.fields, name: [value]}, {}))
    for name in form.files:
        for value in ("\ud800,x\n", "id\n" + "9" * 20 + "\n", ""):
            content = value.encode("utf-8", "surrogatepass")
            variants.append((dict(form.fields), {name: content}))
    return variants


def multipart(fields: dict[str, list[str]], files: dict[str, bytes]) -> dict:
    """Return a test-client ``data`` mapping with files attached."""
    data: dict = {name: values for name, values in fields.items()}
    for name, content in files.items():
        data[name] = (io.BytesIO(content), "upload.csv")
    return data
