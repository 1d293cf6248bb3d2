"""A CRM export in: opportunities (with their accounts) from a CSV, in two steps like bulk customizing.

The CSV is read and its columns matched to Bridge's fields, from a preset's header names
(Salesforce's opportunity report, HubSpot's deals export) or by name (ignoring case, spaces,
underscores and hyphens; a column named like a dimension gives the account's terms of it). The
importer confirms or changes the mapping. Then every row is checked on its own: a bad row is listed
with its reason and left out, the good rows are written in one transaction. A row whose external id
exists updates that opportunity (a stage change or closing is recorded with the import's time).

Values: amounts may carry a currency sign and thousands commas ("$12,500.00"); dates are ISO
(2026-12-31) or month/day/year (12/31/2026, Salesforce's US export); a CRM stage such as
"Closed Won" closes the opportunity, and a preset translates its CRM's usual open stages to the
funnel's when the funnel has a stage of that name.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select

from app.database import transaction
from app.deals import records
from app.deals.records import DealError, OpportunityData
from app.extensions import db
from app.files.csv_uploads import CsvKind, Upload, normalised
from app.library import taxonomy
from app.models import User, utcnow

MAX_ROWS = 5000
MAX_CSV_BYTES = 5 * 1024 * 1024

# Bridge's fields, in the order the mapping step shows them: (name, label, required).
FIELDS = [
    ("external_id", "Opportunity id (CRM)", True),
    ("name", "Opportunity name", True),
    ("account_name", "Account name", True),
    ("account_external_id", "Account id (CRM)", False),
    ("stage", "Stage", False),
    ("amount", "Amount", False),
    ("currency", "Currency", False),
    ("close_date", "Close date", False),
    ("owner", "Owner (email or name)", True),
    ("status", "Status (open, won, lost)", False),
    ("closed_at", "Closed on", False),
]
TERM_FIELD = "term:"  # + a dimension's id: the account's terms of that dimension

PRESETS = {
    "salesforce": {
        "label": "Salesforce (opportunity report)",
        "columns": {"external_id": ["Opportunity ID", "Opportunity Id"], "name": ["Opportunity Name"],
                    "account_name": ["Account Name"], "account_external_id": ["Account ID", "Account Id"],
                    "stage": ["Stage"], "amount": ["Amount"],
                    "currency": ["Opportunity Currency", "Amount Currency", "Currency"],
                    "close_date": ["Close Date"], "owner": ["Opportunity Owner Email", "Opportunity Owner"],
                    "closed_at": ["Last Stage Change Date"]},
        "stages": {"prospecting": "Awareness", "qualification": "Awareness", "needs analysis": "Consideration",
                   "value proposition": "Consideration", "id. decision makers": "Consideration",
                   "perception analysis": "Consideration", "proposal/price quote": "Decision",
                   "negotiation/review": "Decision"},
    },
    "hubspot": {
        "label": "HubSpot (deals export)",
        "columns": {"external_id": ["Record ID", "Deal ID"], "name": ["Deal Name"],
                    "account_name": ["Associated Company", "Company name", "Associated Company (Primary)"],
                    "account_external_id": ["Associated Company IDs", "Associated Company ID",
                                            "Associated Company IDs (Primary)"],
                    "stage": ["Deal Stage"], "amount": ["Amount"], "currency": ["Currency", "Deal currency code"],
                    "close_date": ["Close Date"], "owner": ["Deal owner", "Deal Owner Email"]},
        "stages": {"appointment scheduled": "Awareness", "qualified to buy": "Consideration",
                   "presentation scheduled": "Consideration", "decision maker bought-in": "Decision",
                   "contract sent": "Decision"},
    },
}
CLOSING_STAGES = {"closed won": "won", "closedwon": "won", "won": "won",
                  "closed lost": "lost", "closedlost": "lost", "lost": "lost"}


@dataclass
class BadRow:
    line: int
    external_id: str
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    bad: list[BadRow] = field(default_factory=list)


def fields() -> list[tuple[str, str, bool]]:
    """Bridge's fields and one per dimension (the account's terms)."""
    return FIELDS + [(f"{TERM_FIELD}{d.id}", f"Account {d.name.lower()}", False) for d in taxonomy.dimensions()]


def guess_preset(columns: list[str]) -> str:
    """The preset whose header names the CSV holds most of ("" when none fits)."""
    have = {normalised(c) for c in columns}
    scores = {key: sum(any(normalised(n) in have for n in names) for names in p["columns"].values())
              for key, p in PRESETS.items()}
    best = max(scores, key=scores.get)
    return best if scores[best] >= 3 else ""


def auto_mapping(columns: list[str], preset: str = "") -> dict[str, str]:
    """Field → column: the preset's header names first, then a column named like the field or its label."""
    by_name = {normalised(c): c for c in columns}
    mapping: dict[str, str] = {}
    for name, names in PRESETS.get(preset, {}).get("columns", {}).items():
        if column := next((by_name[normalised(n)] for n in names if normalised(n) in by_name), None):
            mapping[name] = column
    for name, label, _ in fields():
        if name in mapping:
            continue
        keys = [normalised(name), normalised(label)]
        if name.startswith(TERM_FIELD):
            keys.append(normalised(label.removeprefix("Account ")))
        if column := next((by_name[k] for k in keys if k in by_name), None):
            mapping[name] = column
    return {name: column for name, column in mapping.items() if column}


def check_mapping(columns: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """The mapping with unknown fields and columns refused; each required field needs a column."""
    known = {name: label for name, label, _ in fields()}
    mapping = {name: column for name, column in mapping.items() if column}
    if unknown := [n for n in mapping if n not in known] + [c for c in mapping.values() if c not in columns]:
        raise DealError(f"Unknown fields or columns in the mapping: {', '.join(map(str, unknown))}.")
    if missing := [label for name, label, required in FIELDS if required and name not in mapping]:
        raise DealError(f"Choose a column for {', '.join(missing)}: required.")
    return mapping


def import_rows(actor, upload: Upload, mapping: dict[str, str], preset: str = "") -> ImportReport:
    """Check every row, then write the good ones in one transaction; bad rows come back with reasons."""
    if not records.may_import(actor):
        raise DealError("Only managers and admins import opportunities.")
    mapping = check_mapping(upload.columns, mapping)
    report, good, seen = ImportReport(), [], {}
    reader = RowReader(actor, preset)
    for line, row in enumerate(upload.rows, start=2):  # line 1 is the header
        given = {name: row.get(column, "") for name, column in mapping.items()}
        external_id = given.get("external_id", "")
        try:
            data = reader.read(given)
            if data.external_id in seen:
                raise DealError(f"The same opportunity id is on line {seen[data.external_id]}.")
            records.check(actor, data)
        except DealError as error:
            report.bad.append(BadRow(line, external_id, str(error)))
            continue
        seen[data.external_id] = line
        good.append(data)
    with transaction():
        for data in good:
            _, created = records.apply(actor, data, source="import")
            report.created += created
            report.updated += not created
    UPLOADS.forget(actor, upload.token)
    return report


class RowReader:
    """Turns one row's text values into OpportunityData, or raises DealError naming what is wrong."""

    def __init__(self, actor, preset: str):
        self.actor = actor
        self.stage_names = {s.name.casefold(): s for s in taxonomy.stages()}
        self.crm_stages = PRESETS.get(preset, {}).get("stages", {})
        self.dimensions = {f"{TERM_FIELD}{d.id}": d for d in taxonomy.dimensions()}
        self.people: dict[str, User | None] = {}

    def read(self, given: dict[str, str]) -> OpportunityData:
        """The row's opportunity; DealError naming every problem of the row at once (one upload to fix them)."""
        problems: list[str] = []

        def checked(read, *args, default=None):
            try:
                return read(*args)
            except DealError as error:
                problems.append(str(error))
                return default

        status = checked(records.clean_status, given.get("status"))
        stage_id, closing = checked(self.stage, given.get("stage", ""), default=(None, None))
        status = status or closing
        term_ids = None
        if any(name in given for name in self.dimensions):
            term_ids = [t for name, d in self.dimensions.items() if name in given
                        for t in checked(self.terms, d, given[name], default=[])]
        external_id = checked(lambda: records.clean_external_id(given.get("external_id"))
                              or _required("Opportunity id"))
        account_external_id = checked(records.clean_external_id, given.get("account_external_id"), "Account id")
        amount = checked(amount_minor, given.get("amount", ""))
        currency = checked(records.clean_currency, given.get("currency"))
        close_date = checked(parse_date, given.get("close_date", ""))
        owner_id = checked(self.owner, given.get("owner", ""))
        closed_on = checked(parse_date, given.get("closed_at", ""))
        if problems:
            raise DealError(" ".join(problems))
        if status in ("won", "lost") and closed_on is None and close_date and close_date <= utcnow().date():
            closed_on = close_date  # a CRM's closed deal: its close date is when it closed, not the import's day
        return OpportunityData(
            name=given.get("name", ""), account_name=given.get("account_name", ""), external_id=external_id,
            account_external_id=account_external_id, account_term_ids=term_ids, stage_id=stage_id,
            amount_minor=amount, currency=currency, close_date=close_date, owner_id=owner_id, status=status,
            closed_at=_midnight(closed_on) if status in ("won", "lost") else None)

    def stage(self, text: str) -> tuple[int | None, str | None]:
        """(funnel stage id, closing status) of a CRM stage; an unknown stage is refused."""
        key = " ".join(text.casefold().split())
        if not key:
            return None, None
        if key in CLOSING_STAGES:
            return None, CLOSING_STAGES[key]
        stage = self.stage_names.get(key) or self.stage_names.get(self.crm_stages.get(key, "").casefold())
        if stage is None:
            funnel = ", ".join(s.name for s in self.stage_names.values())
            raise DealError(f"Stage {text!r} is not a funnel stage ({funnel}).")
        return stage.id, None

    def terms(self, dimension, text: str) -> list[int]:
        names = [n.strip() for n in re.split(r"[;|]", text) if n.strip()]
        found, unknown = taxonomy.terms_by_name(names, dimension)
        if unknown:
            raise DealError(f"{dimension.name} {', '.join(map(repr, unknown))} is not a term of Bridge.")
        return [t.id for t in found]

    def owner(self, text: str) -> int:
        key = " ".join(text.casefold().split())
        if not key:
            raise DealError("No owner.")
        if key not in self.people:
            column = User.email if "@" in key else User.name
            matches = list(db.session.scalars(select(User).where(func.lower(column) == key).limit(2)))
            self.people[key] = matches[0] if len(matches) == 1 else None
        person = self.people[key]
        if person is None:
            raise DealError(f"Owner {text!r} is no single Bridge user (use their email).")
        if not records.may_own(self.actor, person):
            raise DealError(f"Owner {text!r} is not someone whose deals you manage.")
        return person.id


def _required(label: str):
    raise DealError(f"No {label}.")


def amount_minor(text: str) -> int | None:
    """"$12,500.50" → 1250050; empty → None."""
    cleaned = re.sub(r"[^\d.\-]", "", text.replace(",", ""))
    if not text.strip():
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise DealError(f"Amount {text!r} is not a number.") from None
    if value < 0 or not value.is_finite():
        raise DealError(f"Amount {text!r} is negative.")
    minor = int((value * 100).to_integral_value())
    if minor > records.MAX_AMOUNT_MINOR:
        raise DealError(f"Amount {text!r} is too large.")
    return minor


def parse_date(text: str) -> date | None:
    """2026-12-31, 2026-12-31T10:00:00Z or 12/31/2026; empty → None."""
    text = text.strip()
    if not text:
        return None
    try:
        if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", text):
            return datetime.strptime(text, "%m/%d/%Y").date()
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise DealError(f"Date {text!r} is not like 2026-12-31 or 12/31/2026.") from None


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, datetime.min.time()) if day else None


UPLOADS = CsvKind("deals", MAX_ROWS, MAX_CSV_BYTES, "opportunities", DealError)
read_csv, stash, stashed = UPLOADS.read, UPLOADS.stash, UPLOADS.stashed
