"""The template editor's form (marketers make an asset customizable): the document as HTML and CSS,
its fields as rows a marketer adds, orders and edits (no JSON to write)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, FormField, SelectField, StringField, SubmitField, TextAreaField
from wtforms import FieldList as WTFieldList
from wtforms.validators import DataRequired, Length

from app.documents.authoring import FIELD_TYPES, Field
from app.web.forms import choices

MAX_FIELDS = 40


class FieldRow(Form):
    """One placeholder of the template: `{{ name }}` in the HTML, a box labelled `label` for reps."""

    name = StringField("Placeholder", validators=[Length(max=40)], render_kw={"placeholder": "customer_name",
                                                                            "autocomplete": "off"})
    label = StringField("Label reps see", validators=[Length(max=120)])
    type = SelectField("Type", choices=choices(FIELD_TYPES.items()), default="text")
    default = StringField("Example or default", validators=[Length(max=2000)])
    choices = StringField("Choices (for a choice: comma-separated)", validators=[Length(max=2000)])
    required = BooleanField("Required")
    account = BooleanField("Names the customer")

    def as_declared(self) -> dict:
        choices = [c.strip() for c in (self.choices.data or "").split(",") if c.strip()]
        return {"name": (self.name.data or "").strip(), "label": (self.label.data or "").strip(),
                "type": self.type.data, "default": self.default.data or "", "choices": choices,
                "required": bool(self.required.data), "account": bool(self.account.data)}


class TemplateForm(FlaskForm):
    html = TextAreaField("Template HTML (Jinja)", validators=[DataRequired(), Length(max=200_000)])
    css = TextAreaField("CSS", validators=[Length(max=200_000)])
    fields = WTFieldList(FormField(FieldRow), min_entries=0, max_entries=MAX_FIELDS)
    add_field = SubmitField("Add a field")
    preview = SubmitField("Preview")
    save = SubmitField("Save template")

    def declared(self) -> list[dict]:
        """The rows as the template's declared fields, blank rows left out."""
        return [r for r in self.declared_rows() if r["name"] or r["label"] or r["default"]]

    def load(self, fields: list[Field]) -> None:
        """Fill the rows from declared fields (a GET, or a starter)."""
        while len(self.fields):
            self.fields.pop_entry()
        for f in fields:
            self.fields.append_entry({"name": f.name, "label": f.label, "type": f.type, "default": f.default,
                                      "choices": ", ".join(f.choices), "required": f.required,
                                      "account": f.account})

    def rearrange(self, action: str) -> bool:
        """Apply a row button (`up-N`, `down-N`, `remove-N`) or Add a field; True when one was applied."""
        rows = self.declared_rows()
        if self.add_field.data:
            rows.append({})
        else:
            verb, _, index = action.partition("-")
            if not index.isdigit() or int(index) >= len(rows):
                return False
            n = int(index)
            if verb == "remove":
                rows.pop(n)
            elif verb == "up" and n > 0:
                rows[n - 1], rows[n] = rows[n], rows[n - 1]
            elif verb == "down" and n + 1 < len(rows):
                rows[n + 1], rows[n] = rows[n], rows[n + 1]
            else:
                return False
        while len(self.fields):
            self.fields.pop_entry()
        for row in rows[:MAX_FIELDS]:
            self.fields.append_entry({**row, "choices": ", ".join(row.get("choices", []))} if row else None)
        return True

    def declared_rows(self) -> list[dict]:
        return [row.form.as_declared() for row in self.fields]
