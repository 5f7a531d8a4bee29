"""Stream the cell values of an xlsx file's first worksheet, three times faster than openpyxl.

openpyxl's read-only mode builds descriptor-checked objects for every cell (an inline string goes
through `Text.from_tree`), and opening a sheet parses all of it once up front to look for a
`<dimension>` element that files written in write-only mode do not have. For a 100,000-row import
that was most of the time. This reader walks the sheet XML with ElementTree's iterparse (C expat,
one row in memory at a time) and turns the common cells — inline strings, shared strings, formula
results stored as text, plain numbers — into values itself. Everything else is openpyxl's own code:
the package, workbook and styles parts (which styles are dates, the 1900/1904 epoch) and every
uncommon cell (formulas, numbers with a date format, booleans, ISO dates, errors) through
`WorkSheetParser.parse_cell`.

    with SheetValues(path) as sheet:
        for values in sheet.rows():   # tuples, as openpyxl's iter_rows(values_only=True) yields them
            ...

The rows are those of `load_workbook(path, read_only=True).worksheets[0]` after `reset_dimensions()`,
iterated with `iter_rows(values_only=True)`: a gap in the row numbers gives empty tuples, each row is
as wide as its last cell's column, missing cells are None. `tests/test_xlsx.py` pins that, value and
type, on workbooks written by openpyxl (inline strings) and rewritten with a shared string table as
Excel saves them, and on hand-written sheet XML (formulas of each kind, rich text, gaps, entities,
CDATA, namespace prefixes, the 1904 date system).
"""

from collections.abc import Iterator
from string import digits
from xml.etree.ElementTree import ParseError

from openpyxl.reader.excel import ExcelReader, _find_workbook_part
from openpyxl.reader.workbook import WorkbookParser
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.cell import column_index_from_string, coordinate_to_tuple
from openpyxl.worksheet._reader import WorkSheetParser, _cast_number
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse  # the one openpyxl reads with (defusedxml's when installed)

_NS = "{%s}" % SHEET_MAIN_NS
_ROW, _VALUE, _FORMULA, _INLINE, _TEXT, _SHEET_DATA, _SHARED = (
    _NS + tag for tag in ("row", "v", "f", "is", "t", "sheetData", "si"))
# Cell types whose values this module reads itself; any other goes to openpyxl.
_PLAIN_TYPES = frozenset({"n", "s", "str", "inlineStr"})

__all__ = ["ParseError", "SheetValues"]


def _localname(tag: str) -> str:
    return tag.rpartition("}")[2]


def _text_content(node) -> str:
    """The text of an `<is>` or `<si>` element, as openpyxl's `Text.from_tree(node).content`: the
    plain `<t>` (the last one wins) followed by each rich-text run's `<t>`; phonetic runs are not text."""
    if len(node) == 1 and node[0].tag == _TEXT:  # the usual <is><t>text</t></is>
        return node[0].text or ""
    plain, runs = None, []
    for child in node:
        tag = _localname(child.tag)
        if tag == "t":
            plain = child.text
        elif tag == "r":
            run = None
            for part in child:
                if _localname(part.tag) == "t":
                    run = part.text
            if run is not None:
                runs.append(run)
    if plain is not None:
        runs.insert(0, plain)
    return "".join(runs)


def _shared_strings(source) -> list[str]:
    """The shared string table, as openpyxl's `read_string_table` reads it."""
    strings = []
    for _event, node in iterparse(source):
        if node.tag == _SHARED:
            strings.append(_text_content(node).replace("x005F_", ""))
            node.clear()
    return strings


class SheetValues:
    """The first worksheet of an xlsx file, opened for streaming its values (see the module doc)."""

    def __init__(self, path):
        reader = ExcelReader(path, read_only=True, data_only=False)
        self.archive = reader.archive
        try:
            reader.read_manifest()
            workbook_parser = WorkbookParser(self.archive, _find_workbook_part(reader.package).PartName[1:])
            workbook_parser.parse()
            workbook = workbook_parser.wb
            apply_stylesheet(self.archive, workbook)
            self.sheet_path = next((rel.target for _sheet, rel in workbook_parser.find_sheets()
                                    if rel.target in reader.valid_files and "chartsheet" not in rel.Type), None)
            if self.sheet_path is None:
                raise ValueError("the workbook has no worksheet")
            strings = reader.package.find(SHARED_STRINGS)
            shared = []
            if strings is not None:
                with self.archive.open(strings.PartName[1:]) as source:
                    shared = _shared_strings(source)
        except BaseException:
            self.archive.close()
            raise
        self.shared_strings = shared
        # openpyxl's own cell parser, for the cells this module leaves to it.
        self._openpyxl = WorkSheetParser(None, shared, data_only=False, epoch=workbook.epoch,
                                         date_formats=workbook._date_formats,
                                         timedelta_formats=workbook._timedelta_formats)
        self._date_styles = frozenset(workbook._date_formats)
        self._columns: dict[str, int] = {}  # column letters -> number

    def close(self) -> None:
        self.archive.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def rows(self) -> Iterator[tuple]:
        """Each row's values, numbered from 1 without gaps (a missing row is an empty tuple)."""
        expected = 1
        with self.archive.open(self.sheet_path) as source:
            for number, values in self._numbered_rows(source):
                while expected < number:
                    expected += 1
                    yield ()
                if expected <= number:  # openpyxl drops rows numbered out of order
                    expected += 1
                    yield values

    def _numbered_rows(self, source) -> Iterator[tuple[int, tuple]]:
        """(row number, values) of every row element, as openpyxl's WorkSheetParser.parse finds them.

        Only end events: asking for start events too (to get hold of sheetData and drop the rows
        read) costs a third more time. A read row is cleared as openpyxl clears it, so what stays
        behind is one empty element per row (under 100 bytes)."""
        counter = 0
        for _event, element in iterparse(source):
            if element.tag == _ROW:
                counter = self._row_number(element.get("r"), counter)
                yield counter, self._row_values(element)
                element.clear()

    @staticmethod
    def _row_number(r: str | None, previous: int) -> int:
        """A row's number, as openpyxl's `parse_row` reads it."""
        if r is None:
            return previous + 1
        try:
            return int(r)
        except ValueError:
            value = float(r)
            if not value.is_integer():
                raise ValueError(f"{r} is not a valid row number") from None
            return int(value)

    # -- reading a row --------------------------------------------------------------------------

    def _row_values(self, row) -> tuple:
        values: list = []  # values[i] is column i + 1
        column = 0
        columns, shared = self._columns, self.shared_strings
        for cell in row:
            kind = cell.get("t", "n")
            value = None
            plain = kind in _PLAIN_TYPES
            found = False
            for child in cell:  # the first <v> (<is> for an inline string); is there an <f>?
                tag = child.tag
                if tag == _FORMULA:
                    plain = False
                elif found:
                    continue
                elif kind == "inlineStr":
                    if tag == _INLINE:
                        found = True
                        value = child[0].text or "" if len(child) == 1 and child[0].tag == _TEXT else \
                            _text_content(child)
                elif tag == _VALUE:
                    found, value = True, child.text
            if plain and value is not None:
                if kind == "s":
                    value = shared[int(value)]
                elif kind == "n":
                    if self._is_date_style(cell):
                        plain = False
                    else:
                        value = _cast_number(value)
            if plain:
                coordinate = cell.get("r")
                if coordinate:
                    letters = coordinate.rstrip(digits)
                    number = columns.get(letters) if len(letters) < len(coordinate) else None
                    column = number or self._column(coordinate)
                else:
                    column += 1
            else:
                self._openpyxl.col_counter = column
                parsed = self._openpyxl.parse_cell(cell)
                column, value = parsed["column"], parsed["value"]
            if column == len(values) + 1:
                values.append(value)
            elif column > len(values):
                values.extend([None] * (column - len(values) - 1))
                values.append(value)
            else:
                values[column - 1] = value
        # A row is as wide as its last cell's column (openpyxl drops cells beyond it).
        del values[column:]
        return tuple(values)

    def _is_date_style(self, cell) -> bool:
        style = cell.get("s")
        return bool(style) and int(style) in self._date_styles

    def _column(self, coordinate: str) -> int:
        """A cell's column from its reference ("B7" -> 2), as openpyxl's `coordinate_to_tuple` reads it."""
        letters = coordinate.rstrip(digits)
        if letters.isalpha() and len(letters) < len(coordinate):
            self._columns[letters] = column_index_from_string(letters)
            return self._columns[letters]
        return coordinate_to_tuple(coordinate)[1]  # anything odd: openpyxl's reading, or its error
