"""The fast sheet reader yields exactly what openpyxl's read-only iter_rows(values_only=True) yields."""

import datetime as dt
import io
import re
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from yiwang.registry.xlsx import ParseError, SheetValues

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def comparable(value):
    """A value with its type (1 == 1.0 == True in Python); openpyxl's formula objects have no equality."""
    if isinstance(value, ArrayFormula):
        return ("array", value.ref, value.text)
    if isinstance(value, DataTableFormula):
        return ("table", dict(value))
    return (type(value).__name__, value)


def openpyxl_rows(path) -> list[tuple]:
    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        ws = wb.worksheets[0]
        ws.reset_dimensions()
        return list(ws.iter_rows(values_only=True))
    finally:
        wb.close()


def fast_rows(path) -> list[tuple]:
    with SheetValues(path) as sheet:
        return list(sheet.rows())


def assert_same_rows(path) -> list[tuple]:
    expected = openpyxl_rows(path)
    assert [tuple(map(comparable, row)) for row in fast_rows(path)] == \
        [tuple(map(comparable, row)) for row in expected]
    return expected


VALUES = [
    ["姓名", "身份证号", "出生日期", "数", "空", "备注"],
    ["张三", "141102198001010013", dt.datetime(1980, 1, 1), 42, None, "  padded  "],
    ["李四", 141102198001010013, "1980-01-01", 3.5, "", "a & b < c > \"d\" 'e'"],
    ["王五", "141102198001010013", dt.date(2001, 2, 3), -0.25, None, "line1\nline2\r\nline3"],
    ["=A2&B2", "=SUM(1,2)", dt.timedelta(hours=5, minutes=3), 1e20, True, "_x000D_ literal"],
    [None, None, None, None, None, None],
    ["赵六", "13800000000", dt.time(12, 30), 0, False, "#N/A"],
]


SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def as_shared_strings(path, target, table: list[str] | None = None):
    """The workbook as Excel saves it: openpyxl writes strings inline; move them to a shared string
    table (or, given `table`, add that table: the `<si>` contents)."""
    collected: list[str] = []

    def share(match):
        collected.append(match.group(2))
        return f'{match.group(1)} t="s"><v>{len(collected) - 1}</v></c>'

    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as out:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml" and table is None:
                content = re.sub(r'(<c [^>]*?) t="inlineStr"><is>(.*?)</is></c>', share, content.decode()).encode()
            elif item.filename == "[Content_Types].xml":
                content = content.replace(b"</Types>", f'<Override PartName="/xl/sharedStrings.xml" '
                                                       f'ContentType="{SHARED_STRINGS_TYPE}"/></Types>'.encode())
            out.writestr(item, content)
        out.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">'
                     + "".join(f"<si>{t}</si>" for t in (collected if table is None else table)) + "</sst>")
    return target


@pytest.mark.parametrize("shared", [False, True], ids=["inline strings", "shared strings"])
def test_same_as_openpyxl_on_a_workbook_of_every_kind_of_value(tmp_path, shared):
    wb = Workbook()
    ws = wb.active
    for row in VALUES:
        ws.append(row)
    ws["J12"] = "far right, after empty rows"
    ws["B14"] = ArrayFormula("B14:B15", "=SUM(A1:A2)")
    ws["A16"] = CellRichText("plain ", TextBlock(InlineFont(b=True), "bold"), " tail")
    path = tmp_path / "normal.xlsx"
    wb.save(path)
    if shared:
        path = as_shared_strings(path, tmp_path / "shared.xlsx")
        assert 't="s"' in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    rows = assert_same_rows(path)
    assert rows[1][:4] == ("张三", "141102198001010013", dt.datetime(1980, 1, 1), 42)
    assert rows[4][0] == "=A2&B2" and rows[11][9] == "far right, after empty rows"
    assert rows[15][0] == "plain bold tail"


def test_same_as_openpyxl_on_a_write_only_workbook_with_inline_strings(tmp_path):
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("居民")
    for row in VALUES:
        ws.append(row)
    ws.append([])
    ws.append([None, None, "after a blank row"])
    path = tmp_path / "inline.xlsx"
    wb.save(path)
    assert 't="inlineStr"' in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    rows = assert_same_rows(path)
    assert rows[3][5] == "line1\nline2\nline3" and rows[-1] == (None, None, "after a blank row")


def test_same_as_openpyxl_with_the_1904_date_system(tmp_path):
    wb = Workbook()
    wb.epoch = CALENDAR_MAC_1904
    wb.active.append(["日期", dt.datetime(1999, 12, 31), 36525])
    path = tmp_path / "mac.xlsx"
    wb.save(path)
    assert assert_same_rows(path)[0][1] == dt.datetime(1999, 12, 31)


def _with_sheet_xml(tmp_path, sheet_data: str, *, root: str = f'<worksheet xmlns="{MAIN}">', close="</worksheet>",
                    name="hand.xlsx"):
    """A workbook (made by openpyxl, with a date style) whose first sheet is replaced by hand-written XML.
    `{date}` in the XML is the index of a cell style with a date format."""
    wb = Workbook()
    wb.active["A1"] = dt.datetime(2020, 1, 2)
    wb.active["B1"] = "shared"
    buffer = io.BytesIO()
    wb.save(buffer)
    source = zipfile.ZipFile(buffer)
    date_style = re.search(r'<c r="A1" s="(\d+)"', source.read("xl/worksheets/sheet1.xml").decode()).group(1)
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = (f'<?xml version="1.0" encoding="UTF-8"?>\n{root}{sheet_data.format(date=date_style)}'
                           f'{close}').encode()
            target.writestr(item, content)
    return path


HAND_WRITTEN = {
    "no row or cell references": '<sheetData><row><c t="inlineStr"><is><t>a</t></is></c><c><v>1</v></c></row>'
                                 '<row><c t="inlineStr"><is><t>b</t></is></c></row></sheetData>',
    "gaps, out-of-order and fractional row numbers": (
        '<sheetData><row r="2"><c r="C2"><v>3</v></c></row><row r="5"><c r="A5" t="inlineStr"><is><t>x</t></is></c>'
        '</row><row r="3"><c r="A3"><v>9</v></c></row><row r="7.0"><c r="B7"><v>2.5</v></c></row></sheetData>'),
    "rich text, phonetic runs, several plain texts": (
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><r><t>张</t></r><r><rPr><b/></rPr><t>三</t></r>'
        '<rPh sb="0" eb="1"><t>zhang</t></rPh></is></c><c r="B1" t="inlineStr"><is><t>a</t><t>b</t></is></c>'
        '<c r="C1" t="inlineStr"><is><t/><r><t>run</t><rPr><b/></rPr></r></is></c><c r="D1" t="inlineStr"/><c r="E1" t="inlineStr"><is>'
        '<t xml:space="preserve">  sp  </t></is></c><c r="F1" t="inlineStr"><is><r><t>run</t></r><t>plain</t>'
        '</is></c></row></sheetData>'),
    "formulas of every kind": (
        '<sheetData><row r="1"><c r="A1" t="str"><f>B1&amp;"x"</f><v>yx</v></c><c r="B1"><f t="shared" ref="B1:B3" '
        'si="0">A1*2</f><v>2</v></c><c r="C1" t="inlineStr"><f>1+1</f><is><t>2</t></is></c></row><row r="2">'
        '<c r="B2"><f t="shared" si="0"/><v>4</v></c><c r="C2"><f t="array" ref="C2:C3">SUM(A1:A2)</f><v>1</v></c>'
        '<c r="D2"><v>5</v><f>2+3</f></c></row></sheetData>'),
    "booleans, errors, ISO dates, date-styled numbers, plain numbers": (
        '<sheetData><row r="1"><c r="A1" t="b"><v>1</v></c><c r="B1" t="b"><v>0</v></c><c r="C1" t="e">'
        '<v>#DIV/0!</v></c><c r="D1" t="d"><v>2024-05-31T08:30:00</v></c><c r="E1" s="{date}"><v>44000.5</v></c>'
        '<c r="F1" s="0"><v>44000</v></c><c r="G1"><v>1E3</v></c><c r="H1"><v>-7</v></c><c r="I1" t="n"><v>0.1</v>'
        '</c><c r="J1"><v>1</v><v>2</v></c><c r="K1" t="inlineStr"><v>5</v><is><t>x</t></is><is><t>y</t></is></c>'
        '</row></sheetData>'),
    "empty values and cells": (
        '<sheetData><row r="1"><c r="A1"><v/></c><c r="B1"><v></v></c><c r="C1" t="str"><v></v></c><c r="D1"/>'
        '<c r="E1" t="inlineStr"><is><t>last</t></is></c></row><row r="2"/><row r="3"><c r="C3"/></row></sheetData>'),
    "entities, CDATA and comments": (
        '<sheetData><!-- a comment --><row r="1"><c r="A1" t="inlineStr"><is><t>&amp;&lt;&#x4E09;&#19977;</t></is>'
        '</c><c r="B1" t="inlineStr"><is><t><![CDATA[<b>not markup</b></row>]]></t></is></c></row>'
        '<?pi data?><row r="2"><c r="A2" t="str"><v>x</v></c></row></sheetData>'),
    "cells out of order and wide rows": (
        '<sheetData><row r="1"><c r="C1"><v>3</v></c><c r="A1"><v>1</v></c><c r="AB1" t="inlineStr"><is><t>far</t>'
        '</is></c></row><row r="2"><c r="D2"><v>4</v></c><c r="B2"><v>2</v></c></row></sheetData>'),
}


@pytest.mark.parametrize("sheet_data", HAND_WRITTEN.values(), ids=HAND_WRITTEN.keys())
def test_same_as_openpyxl_on_hand_written_sheets(tmp_path, sheet_data):
    assert_same_rows(_with_sheet_xml(tmp_path, sheet_data))


def test_same_as_openpyxl_with_a_namespace_prefix(tmp_path):
    path = _with_sheet_xml(tmp_path, '<x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>hi</x:t></x:is>'
                                     '</x:c><x:c r="B1"><x:v>2</x:v></x:c></x:row></x:sheetData>',
                           root=f'<x:worksheet xmlns:x="{MAIN}">', close="</x:worksheet>")
    assert assert_same_rows(path) == [("hi", 2)]


def test_shared_strings_read_as_openpyxl_reads_them(tmp_path):
    path = _with_sheet_xml(tmp_path, '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
                                     '<c r="C1" t="s"><v>2</v></c></row></sheetData>')
    table = ["<r><t>富</t></r><r><t>文本</t></r><rPh sb=\"0\" eb=\"1\"><t>fu</t></rPh>", "<t>a_x005F_x000D_b</t>",
             "<t/>"]
    path = as_shared_strings(path, tmp_path / "strings.xlsx", table)
    assert assert_same_rows(path) == [("富文本", "a_x000D_b", "")]


def test_damaged_sheet_raises_a_parse_error(tmp_path):
    path = _with_sheet_xml(tmp_path, '<sheetData><row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c>',
                           close="")
    with SheetValues(path) as sheet:
        rows = sheet.rows()
        assert next(rows) == (1,)
        with pytest.raises(ParseError):
            list(rows)
