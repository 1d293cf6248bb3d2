"""Reading insights as a marketer does: a page's tables as text, and the CSV exports."""
from __future__ import annotations

import csv
import html
import io
import re


def csv_rows(client, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def html_table(page: str, name: str) -> list[list[str]]:
    """A data table of an insights page as text rows, header first, as a reader sees it."""
    table = re.search(rf'<table class="table[^"]*" data-table="{name}">(.*?)</table>', page, re.S)
    assert table, f"no table {name}"
    rows = re.findall(r"<tr>(.*?)</tr>", table[1], re.S)

    def text(cell):
        return html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()

    # the selection boxes and row actions a marketer gets are not data
    return [[text(c) for attrs, c in re.findall(r"<t[hd]([^>]*)>(.*?)</t[hd]>", row, re.S)
             if 'class="pick"' not in attrs and 'class="actions"' not in attrs] for row in rows]
