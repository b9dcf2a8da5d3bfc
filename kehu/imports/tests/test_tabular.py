import codecs
import io
from datetime import datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from kehu.core.tabular import (
    EXTRA_CELLS,
    TabularError,
    header_key,
    open_table,
    stream_csv,
    unique_headers,
    write_xlsx,
)


def write_bytes(tmp_path, content: bytes, name: str = "file.csv"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def rows_of(path, name: str = "") -> list:
    return list(open_table(path, name or path.name).rows())


def test_utf8_csv_with_bom(tmp_path):
    path = write_bytes(tmp_path, codecs.BOM_UTF8 + "姓名,手机\n张三,13800001111\n".encode())
    table = open_table(path)
    assert (table.encoding, table.headers) == ("utf-8-sig", ["姓名", "手机"])
    assert list(table.rows()) == [(2, {"姓名": "张三", "手机": "13800001111"})]


def test_gbk_csv_from_chinese_excel(tmp_path):
    path = write_bytes(tmp_path, "姓名,城市\r\n欧阳娜娜,乌鲁木齐\r\n".encode("gbk"))
    table = open_table(path)
    assert table.encoding == "gb18030"
    assert list(table.rows()) == [(2, {"姓名": "欧阳娜娜", "城市": "乌鲁木齐"})]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_detected(tmp_path, delimiter):
    path = write_bytes(tmp_path, f"a{delimiter}b\n1{delimiter}2\n".encode())
    assert rows_of(path) == [(2, {"a": "1", "b": "2"})]


def test_line_numbers_count_quoted_newlines_and_skip_blank_rows(tmp_path):
    path = write_bytes(tmp_path, b'name,notes\nA,"two\nlines"\n,\nB,x\n')
    assert [line for line, _row in rows_of(path)] == [2, 5]


def test_ragged_rows_keep_their_extra_cells(tmp_path):
    path = write_bytes(tmp_path, b"a,b\n1\n1,2,3\n1,2,,\n")
    rows = rows_of(path)
    assert rows[0] == (2, {"a": "1", "b": ""})
    assert rows[1][1][EXTRA_CELLS] == "3"
    assert EXTRA_CELLS not in rows[2][1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"name,mobile\n", "no rows"),
        (b"\x00\x01\x02binary\xff\xfe" * 50, "not a text file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
    ],
)
def test_broken_csv_files_raise_a_clear_error(tmp_path, content, message):
    path = write_bytes(tmp_path, content)
    with pytest.raises(TabularError, match=message):
        open_table(path)


def test_undecodable_line_later_in_the_file_names_the_line(tmp_path):
    content = b"name\n" + b"ok\n" * 30000 + "坏".encode("gbk") + b"\xff\xff\n"
    path = write_bytes(tmp_path, content)
    with pytest.raises(TabularError, match="Line 30002"):
        rows_of(path)


def make_workbook(tmp_path, rows: list[list], name: str = "file.xlsx"):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def test_xlsx_rows_as_text(tmp_path):
    path = make_workbook(
        tmp_path,
        [
            ["姓名", "手机", "下单时间", "金额"],
            ["张三", 13800001111, datetime(2024, 3, 1, 10, 20), 12.5],
        ],
    )
    table = open_table(path)
    assert table.file_format == "xlsx"
    assert list(table.rows()) == [
        (
            2,
            {
                "姓名": "张三",
                "手机": "13800001111",
                "下单时间": "2024-03-01 10:20:00",
                "金额": "12.5",
            },
        )
    ]


def test_xlsx_is_recognised_by_content_whatever_its_name(tmp_path):
    path = make_workbook(tmp_path, [["a"], ["1"]], name="export.dat")
    assert open_table(path).file_format == "xlsx"


def test_truncated_xlsx_raises_a_clear_error(tmp_path):
    whole = make_workbook(tmp_path, [["a"], *[[f"row {n}"] for n in range(200)]]).read_bytes()
    path = write_bytes(tmp_path, whole[: len(whole) // 2], name="cut.xlsx")
    with pytest.raises(TabularError, match="damaged or incomplete"):
        open_table(path)


def test_xlsx_with_only_a_header(tmp_path):
    path = make_workbook(tmp_path, [["name", "mobile"]])
    with pytest.raises(TabularError, match="no rows"):
        open_table(path)


def test_headers_are_normalised_and_made_unique():
    assert unique_headers(["\ufeff 姓名 ", "", "手机", "手机", None]) == [
        "姓名",
        "Column 2",
        "手机",
        "手机 (2)",
        "Column 5",
    ]
    assert header_key(" Member_No. ") == "memberno"


def test_csv_writer_adds_a_bom_and_neutralises_formulas():
    content = b"".join(stream_csv(["名称", "金额"], [["=cmd()", Decimal("1.50")], ["张三", None]]))
    assert content.startswith(codecs.BOM_UTF8)
    assert content.decode("utf-8-sig").splitlines() == ["名称,金额", "'=cmd(),1.50", "张三,"]


def test_xlsx_writer_keeps_formulas_as_text(tmp_path):
    target = io.BytesIO()
    write_xlsx(target, ["名称"], [["=1+1"], ["张三"]])
    sheet = load_workbook(target).active
    assert [cell.value for cell in sheet["A"]] == ["名称", "=1+1", "张三"]
    assert sheet["A2"].data_type == "s"


def test_records_map_columns_to_fields_and_report_cells_beyond_the_header(tmp_path):
    path = write_bytes(tmp_path, b"a,b,c\n 1 ,2,3\n1\n\n , ,\n1,2,3,4, 5\n1,2,3, ,\n")
    records = list(open_table(path).records({"second": "b", "first": "a"}))
    assert records == [
        (2, {"second": "2", "first": "1"}, ""),
        (3, {"second": "", "first": "1"}, ""),
        (6, {"second": "2", "first": "1"}, "4 | 5"),
        (7, {"second": "2", "first": "1"}, ""),
    ]


def test_records_of_one_column_and_of_a_workbook(tmp_path):
    csv_path = write_bytes(tmp_path, b"a,b\n1,2\n")
    assert list(open_table(csv_path).records({"only": "b"})) == [(2, {"only": "2"}, "")]
    xlsx_path = make_workbook(tmp_path, [["手机", "金额"], [13800001111, 12.5], [None, None]])
    assert list(open_table(xlsx_path).records({"mobile": "手机", "amount": "金额"})) == [
        (2, {"mobile": "13800001111", "amount": "12.5"}, "")
    ]
