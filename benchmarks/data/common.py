"""Shared pieces of the generators: rows written straight into a model's table with COPY, every column
the generator does not set filled from the model's own defaults (so a generator survives a feature app
adding a column), explicit ids so foreign keys need no read-back, and synthetic Chinese identities."""

import datetime as dt
import json
import uuid

from django.db import models
from django.utils import timezone

from ..db import bulk_load, reset_sequence

# GB 11643 check digit weights and characters.
_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"


def id_number(region: str, birth: dt.date, serial: int) -> str:
    """A valid 18-digit resident identity number (synthetic): region, birth date, 3-digit serial, check."""
    body = f"{region}{birth:%Y%m%d}{serial % 1000:03d}"
    return body + _CHECK[sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True)) % 11]


class ModelCopier:
    """COPY rows into `model`'s table. `write(values)` takes a dict of attnames; the rest get defaults."""

    def __init__(self, model: type[models.Model], *, start_id: int = 1):
        self.model = model
        self.table = model._meta.db_table
        self.fields = [f for f in model._meta.concrete_fields]
        self.columns = [f.column for f in self.fields]
        self.attnames = [f.attname for f in self.fields]
        self.next_id = start_id
        now = timezone.now()
        self._defaults = {}
        for f in self.fields:
            if f.primary_key:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                self._defaults[f.attname] = now
            elif f.has_default():
                default = f.get_default()
                self._defaults[f.attname] = default
            elif f.null:
                self._defaults[f.attname] = None
            elif isinstance(f, (models.CharField, models.TextField)):
                self._defaults[f.attname] = ""
            elif isinstance(f, models.UUIDField):
                self._defaults[f.attname] = None  # filled per row
            else:
                self._defaults[f.attname] = None
        self._uuid_fields = [f.attname for f in self.fields if isinstance(f, models.UUIDField)]
        self._json_fields = {f.attname for f in self.fields if isinstance(f, models.JSONField)}

    def new_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value

    def row(self, values: dict) -> tuple:
        out = []
        for attname, field in zip(self.attnames, self.fields, strict=True):
            if attname in values:
                value = values[attname]
            elif field.primary_key:
                value = self.new_id()
            elif attname in self._uuid_fields:
                value = uuid.uuid4()
            else:
                value = self._defaults[attname]
                if callable(value):
                    value = value()
            if attname in self._json_fields and value is not None and not isinstance(value, str):
                value = json.dumps(value, ensure_ascii=False)
            elif isinstance(value, dt.datetime):
                # SQLite compares datetimes as text, so they must look exactly like Django's own.
                value = value.isoformat() if self._is_postgres else \
                    value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
            elif isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, uuid.UUID):
                value = str(value) if self._is_postgres else value.hex
            out.append(value)
        return tuple(out)

    def renderer(self, attnames: list[str]):
        """A function turning a tuple of values for `attnames` into one COPY text line (PostgreSQL);
        every other column is a constant rendered once. Values: ints, floats, plain strings without
        tabs or newlines, dates, None, bools."""
        from django.db import connection

        self._is_postgres = connection.vendor == "postgresql"
        positions = {a: i for i, a in enumerate(attnames)}
        sample = self.row({a: None for a in attnames})
        parts = [f"{{{positions[a]}}}" if a in positions else _text(sample[i]).replace("{", "{{").replace("}", "}}")
                 for i, a in enumerate(self.attnames)]
        template = "\t".join(parts) + "\n"
        return lambda values: template.format(*map(_text, values))

    def load_tuples(self, attnames: list[str], rows) -> int:
        """The fast path for tens of millions of rows (see renderer); on SQLite the general path."""
        from django.db import connection

        self._is_postgres = connection.vendor == "postgresql"
        if not self._is_postgres:
            return self.load(dict(zip(attnames, values, strict=True)) for values in rows)
        return self.load_lines(map(self.renderer(attnames), rows))

    def load_lines(self, lines) -> int:
        from ..db import copy_text_lines

        count = copy_text_lines(self.table, [f'"{c}"' for c in self.columns], lines)
        reset_sequence(self.table)
        return count

    def load(self, rows) -> int:
        """Stream dicts into the table; returns the count. Resets the id sequence afterwards."""
        from django.db import connection

        self._is_postgres = connection.vendor == "postgresql"
        count = bulk_load(self.table, [f'"{c}"' for c in self.columns], (self.row(v) for v in rows))
        reset_sequence(self.table)
        return count


def _text(value) -> str:
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)
