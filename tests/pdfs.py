"""Reading the PDFs Bridge makes, as a customer's reader would: the text of each page and where its
links go; and the check that nothing in them points back into Bridge."""
from __future__ import annotations

import io
import re

import pypdf

# What an address into Bridge looks like (a customer has no login): the app's own host and its paths.
INTERNAL = re.compile(r"(https?://)?(localhost|127\.0\.0\.1)(:\d+)?(/|\b)|/(assets|documents|kits|manage|search|"
                      r"collections|shares|s)/|Open in Bridge")


def page_texts(data: bytes) -> list[str]:
    """Each page's text, its whitespace folded."""
    return [" ".join((page.extract_text() or "").split()) for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def link_targets(data: bytes) -> list[str]:
    """Every link annotation's address (URI actions and launch targets)."""
    targets = []
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            action = annotation.get("/A")
            if action is not None:
                action = action.get_object()
                targets += [str(action[key]) for key in ("/URI", "/F") if key in action]
    return targets


def internal_addresses(data: bytes, *hosts: str) -> list[str]:
    """Text or links in a PDF that lead into Bridge (its host, or paths such as /assets/)."""
    found = [m.group(0) for text in page_texts(data) + link_targets(data) for m in INTERNAL.finditer(text)]
    return found + [h for h in hosts if h and any(h in t for t in page_texts(data) + link_targets(data))]
