"""Catalog loading: real grocery and ReDial rows, made bad in the ways users make them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from retrieval.catalog import MAX_DESCRIPTION_CHARS, parse_cell, read_catalog
from retrieval.errors import CatalogError


@pytest.fixture(scope="module")
def grocery_rows(shared_datasets: Path) -> dict:
    """A few real grocery rows as the converter writes them (image paths relative)."""
    from retrieval.settings import DEMO_CATALOG

    rows = {}
    with DEMO_CATALOG.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            rows[row["id"]] = row
    return rows


@pytest.fixture(scope="module")
def redial_info(shared_datasets: Path) -> dict:
    info = json.loads((shared_datasets / "redial" / "movies_id2info.json").read_text(encoding="utf-8"))
    return {k: info[k] for k in ("100026", "100030", "100043")}


@pytest.fixture
def catalog_dir(tmp_path: Path, grocery_rows: dict) -> Path:
    """A folder with images/ holding two real product photos."""
    from retrieval.settings import DEMO_CATALOG

    (tmp_path / "images").mkdir()
    for name in ("Golden-Delicious", "Granny-Smith"):
        shutil.copyfile(DEMO_CATALOG.parent / "images" / f"{name}.jpg", tmp_path / "images" / f"{name}.jpg")
    return tmp_path


def _problems(read) -> list[tuple]:
    return [(p.line, p.field, p.severity, p.item_id) for p in read.problems]


def test_jsonl_bad_rows_are_reported_and_good_rows_kept(catalog_dir: Path, grocery_rows: dict):
    golden = grocery_rows["Golden-Delicious"]
    granny = grocery_rows["Granny-Smith"]
    banana = dict(grocery_rows["Banana"])
    banana.pop("image")
    lines = [
        json.dumps(golden),                                                   # 1 ok
        json.dumps(granny)[:-7],                                              # 2 truncated JSON
        json.dumps({**golden, "title": "Golden again"}),                      # 3 duplicate id
        json.dumps({k: v for k, v in grocery_rows["Kiwi"].items() if k != "id"}),  # 4 missing id
        "",                                                                   # 5 blank: ignored
        json.dumps({k: v for k, v in grocery_rows["Lemon"].items() if k != "title"}),  # 6 missing title
        json.dumps({**grocery_rows["Lime"], "image": None,
                    "attributes": {"category": "Lime", "nutrition": {"fat": 0.2}}}),  # 7 nested attribute
        json.dumps({**grocery_rows["Mango"], "image": "images/Mango.jpg"}),   # 8 image not there
        json.dumps([golden["id"], golden["title"]]),                          # 9 not an object
        json.dumps({**banana, "price": 2.5, "organic": True}),                # 10 extra keys -> attributes
        json.dumps({**granny, "title": 42}),                                  # 11 title not text
        json.dumps({**grocery_rows["Orange"], "id": 7, "image": ""}),         # 12 int id
    ]
    path = catalog_dir / "catalog.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    read = read_catalog(path)

    assert [i.id for i in read.items] == ["Golden-Delicious", "Lime", "Mango", "Banana", "7"]
    assert _problems(read) == [
        (2, None, "error", None),
        (3, "id", "error", "Golden-Delicious"),
        (4, "id", "error", None),
        (6, "title", "error", "Lemon"),
        (7, "nutrition", "error", "Lime"),
        (8, "image", "warning", "Mango"),
        (9, None, "error", None),
        (11, "title", "error", "Granny-Smith"),
    ]
    reasons = [p.reason for p in read.problems]
    assert reasons[0].startswith("invalid JSON")
    assert "first on line 1" in reasons[1]
    assert "images/Mango.jpg" in reasons[5] and "row kept without image" in reasons[5]
    assert "object" in reasons[6]
    assert all(p.file == str(path) for p in read.problems)

    items = {i.id: i for i in read.items}
    assert items["Golden-Delicious"].title == "Apple Golden Delicious Class 1"
    assert items["Golden-Delicious"].image == (catalog_dir / "images" / "Golden-Delicious.jpg").resolve()
    assert items["Golden-Delicious"].description.startswith("Golden Delicious has a white juicy pulp")
    assert items["Golden-Delicious"].source == (str(path), 1)
    assert items["Lime"].attributes == {"category": "Lime"}  # the nested attribute alone is left out
    assert items["Mango"].image is None
    assert items["Banana"].attributes["price"] == 2.5 and items["Banana"].attributes["organic"] is True
    assert items["Banana"].attributes["category"] == "Banana"
    assert items["7"].title == grocery_rows["Orange"]["title"]
    assert len(read.errors) == 7 and len(read.warnings) == 1
    # 11 rows (the blank line is none); Lime lost only an attribute, so 6 were skipped whole
    assert read.rows == 11 and read.skipped == 6


def test_redial_movie_attributes_keep_their_types(tmp_path: Path, redial_info: dict):
    path = tmp_path / "movies.ndjson"
    with path.open("w", encoding="utf-8") as f:
        for movie_id, info in redial_info.items():
            f.write(json.dumps({"id": int(movie_id), "title": info["name"], "description": info["plot"],
                                "genre": info["genre"], "star": info["star"],
                                "attributes": {"imdb_id": info["imdb_id"], "year": 1995}}) + "\n")
    read = read_catalog(path)
    assert read.problems == []
    pari = read.items[0]
    assert pari.id == "100026" and pari.title == "Pari (1995)"
    assert pari.attributes == {"imdb_id": "tt0114092", "year": 1995, "genre": ["drama", "romance"],
                               "star": ["Niki Karimi", "Khosro Shakibai", "Ali Mosaffa"]}


def test_jsonl_wrong_value_types(tmp_path: Path, redial_info: dict):
    pari = redial_info["100026"]
    rows = [
        {"id": "100026", "title": pari["name"], "genre": ["drama", 3]},          # mixed list
        {"id": "100030", "title": "Friends with Benefits (2011)", "rating": float("nan")},
        {"id": "100043", "title": "Back to the Future", "description": ["not", "text"], "title_x": None,
         "attributes": ["drama"]},
        {"id": 1.5, "title": "float id"},
        {"id": "100044", "title": "Reserved", "content_hash": "x", "_model": "y", "image": 5},
    ]
    path = tmp_path / "movies.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    read = read_catalog(path)
    assert [i.id for i in read.items] == ["100026", "100030", "100043", "100044"]
    assert _problems(read) == [
        (1, "genre", "error", "100026"),
        (2, "rating", "error", "100030"),
        (3, "attributes", "error", "100043"),
        (3, "description", "error", "100043"),
        (4, "id", "error", None),
        (5, "image", "error", "100044"),
        (5, "content_hash", "error", "100044"),
        (5, "_model", "error", "100044"),
    ]
    assert read.items[2].description == "" and read.items[2].attributes == {}


def test_long_description_is_truncated_with_a_warning(tmp_path: Path, grocery_rows: dict):
    row = dict(grocery_rows["Golden-Delicious"])
    row.pop("image")
    row["description"] = (row["description"] + " ") * 1000
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    read = read_catalog(path)
    assert len(read.items[0].description) == MAX_DESCRIPTION_CHARS
    assert _problems(read) == [(1, "description", "warning", "Golden-Delicious")]


def test_csv_columns_become_typed_attributes(tmp_path: Path, redial_info: dict, catalog_dir: Path):
    lines = ["id,title,description,image,genre,year,rating,imdb_id,seen,star"]
    for movie_id, info in redial_info.items():
        plot = info["plot"].replace('"', '""')
        lines.append(f'{movie_id},"{info["name"]}","{plot}",,{"|".join(info["genre"])},1995,7.5,'
                     f'{info["imdb_id"]},true,{"|".join(info["star"])}')
    lines.append('100050,"Golden Delicious",,images/Golden-Delicious.jpg,fruit,,,0114092,FALSE,')
    lines.append("100051,Too many,columns,,a,1,2,3,true,x,extra")
    lines.append(",No id,,,,,,,,")
    path = catalog_dir / "movies.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    read = read_catalog(path)
    assert [i.id for i in read.items] == ["100026", "100030", "100043", "100050"]
    assert _problems(read) == [(6, None, "error", None), (7, "id", "error", None)]
    assert read.rows == 6 and read.skipped == 2
    pari = read.items[0]
    assert pari.description == redial_info["100026"]["plot"]
    assert pari.attributes == {"genre": ["drama", "romance"], "year": 1995, "rating": 7.5,
                               "imdb_id": "tt0114092", "seen": True,
                               "star": ["Niki Karimi", "Khosro Shakibai", "Ali Mosaffa"]}
    last = read.items[3]
    # a leading zero keeps a code as text; empty cells are no value
    assert last.attributes == {"genre": "fruit", "imdb_id": "0114092", "seen": False}
    assert last.image == (catalog_dir / "images" / "Golden-Delicious.jpg").resolve()


def test_csv_long_cells_and_trailing_empty_cells(tmp_path: Path, redial_info: dict):
    plot = redial_info["100026"]["plot"]
    long_plot = (plot + " ") * 1500  # over the csv module's default 128 KiB cell limit
    path = tmp_path / "long.csv"
    path.write_text(f'id,title,description\n100026,Pari (1995),"{long_plot}",,\n', encoding="utf-8")
    read = read_catalog(path)
    assert len(read.items[0].description) == MAX_DESCRIPTION_CHARS
    assert _problems(read) == [(2, "description", "warning", "100026")]


def test_csv_line_numbers_count_multiline_quoted_cells(tmp_path: Path, redial_info: dict):
    plot = redial_info["100043"]["plot"]
    path = tmp_path / "multi.csv"
    path.write_text(f'id,title,description\n100043,Back to the Future,"{plot}\nsecond line"\n\n'
                    f'100043,Back to the Future,dup\n', encoding="utf-8")
    read = read_catalog(path)
    assert [(p.line, p.field) for p in read.problems] == [(5, "id")]
    assert "first on line 2" in read.problems[0].reason


def test_latin1_csv_row_is_reported_with_the_line_and_a_hint(tmp_path: Path, shared_datasets: Path):
    # the real title of Arla-Standard-Milk is "Mjölk 3%": saved as Latin-1 by a spreadsheet;
    # that row is reported and skipped, the rows that are plain ASCII are read
    path = tmp_path / "grocery.csv"
    path.write_bytes("id,title,category\nBanana,Banana Ecological Class 1,Banana\n"
                     "Arla-Standard-Milk,Mjölk 3%,Milk\n".encode("latin-1"))
    read = read_catalog(path)
    assert [i.id for i in read.items] == ["Banana"]
    assert _problems(read) == [(3, None, "error", None)]
    reason = read.problems[0].reason
    assert "UTF-8" in reason and "0xf6" in reason and "iconv" in reason
    # a header that is not UTF-8 still refuses the whole file, naming the line
    path.write_bytes("id,títle\n1,x\n".encode("latin-1"))
    with pytest.raises(CatalogError) as e:
        read_catalog(path)
    message = str(e.value)
    assert str(path) in message and "UTF-8" in message and "line 1" in message and "0xed" in message


def test_latin1_jsonl_line_is_reported_and_the_rest_kept(tmp_path: Path):
    path = tmp_path / "grocery.jsonl"
    good = json.dumps({"id": "Banana", "title": "Banana Ecological Class 1"}).encode()
    bad = '{"id": "Arla-Standard-Milk", "title": "Mjölk 3%"}'.encode("latin-1")
    path.write_bytes(good + b"\n" + bad + b"\n")
    read = read_catalog(path)
    assert [i.id for i in read.items] == ["Banana"]
    assert _problems(read) == [(2, None, "error", None)]
    assert "UTF-8" in read.problems[0].reason
    assert read.rows == 2 and read.skipped == 1


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_utf8_bom_is_accepted(tmp_path: Path, suffix: str):
    path = tmp_path / f"bom{suffix}"
    if suffix == ".csv":
        text = "id,title,category\nArla-Standard-Milk,Mjölk 3%,Milk\n"
    else:
        text = json.dumps({"id": "Arla-Standard-Milk", "title": "Mjölk 3%", "category": "Milk"},
                          ensure_ascii=False) + "\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    read = read_catalog(path)
    assert read.problems == []
    assert [(i.id, i.title, i.attributes) for i in read.items] == [
        ("Arla-Standard-Milk", "Mjölk 3%", {"category": "Milk"})]


def test_semicolon_csv_and_unnamed_column(tmp_path: Path):
    path = tmp_path / "semi.csv"
    path.write_text("ID;Title;origin;\nGarlic;Garlic Class 1;China;\n", encoding="utf-8")
    read = read_catalog(path)
    assert [(i.id, i.title, i.attributes) for i in read.items] == [("Garlic", "Garlic Class 1", {"origin": "China"})]
    assert _problems(read) == [(1, None, "warning", None)]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("missing.jsonl", None, "does not exist"),
    ("catalog.json", "[]", "unsupported extension"),
    ("catalog.xlsx", "x", "unsupported extension"),
    ("empty.jsonl", "\n\n", "has no rows"),
    ("empty.csv", "", "is empty"),
    ("header-only.csv", "id,title\n", "has no rows"),
    ("no-title.csv", "id,name\n1,Garlic\n", "no 'title' column"),
    ("twice.csv", "id,title,Title\n1,a,b\n", "repeated"),
])
def test_unreadable_catalogs_raise(tmp_path: Path, name: str, content: str | None, message: str):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogError, match=message) as e:
        read_catalog(path)
    assert str(path) in str(e.value)


def test_directory_is_refused(tmp_path: Path):
    with pytest.raises(CatalogError, match="not a file"):
        read_catalog(tmp_path)


@pytest.mark.parametrize(("cell", "value"), [
    ("12", 12), ("-3", -3), ("2.5", 2.5), ("1e3", 1000.0), ("TRUE", True), ("false", False),
    ("drama|romance", ["drama", "romance"]), ("1|2.5", [1.0, 2.5]), ("1|a", ["1", "a"]),
    ("  ", None), ("|", None), ("007", "007"), ("nan", "nan"), ("Italy", "Italy"),
])
def test_parse_cell(cell: str, value):
    assert parse_cell(cell) == value
    assert type(parse_cell(cell)) is type(value)


def test_demo_catalog_reads_cleanly():
    from retrieval.settings import DEMO_CATALOG

    read = read_catalog(DEMO_CATALOG)
    assert read.problems == []
    assert len(read.items) == 81
    assert all(i.image is not None and i.image.is_file() for i in read.items)


# ---- quoting gone wrong, separators, decimal commas (issue 13) ----------------------------------


def test_a_missing_closing_quote_is_reported_and_the_rows_it_swallowed_read_again(tmp_path: Path):
    path = tmp_path / "quote.csv"
    path.write_text('id,title,description\n1,"Unclosed quote,desc\n2,Fine,ok\n', encoding="utf-8")
    read = read_catalog(path)
    # before: one item titled "Unclosed quote,desc 2,Fine,ok", nothing reported
    assert [(i.id, i.title, i.source[1]) for i in read.items] == [("2", "Fine", 3)]
    assert _problems(read) == [(2, None, "error", None)]
    assert "opened on line 2" in read.problems[0].reason and "closing quote is probably missing" in read.problems[0].reason
    assert (read.count.records, read.count.accepted, read.count.reported) == (2, 1, 1)


def test_a_line_break_inside_quotes_is_no_problem(tmp_path: Path, redial_info: dict):
    # a plot over three lines, one of them reading like a row of three values
    plot = redial_info["100043"]["plot"].replace('"', '""')
    path = tmp_path / "multi.csv"
    path.write_text(f'id,title,description\n100043,Back to the Future,"{plot}\nDirector, Robert Zemeckis, 1985\n'
                    'end"\n100026,Pari (1995),x\n', encoding="utf-8")
    read = read_catalog(path)
    assert read.problems == [] and [i.id for i in read.items] == ["100043", "100026"]
    assert read.items[0].description.endswith("Director, Robert Zemeckis, 1985\nend")
    assert read.count.lines == 4 and read.count.records == 2


@pytest.mark.parametrize(("line", "words"), [
    ('Garlic,"Garlic" Class 1,China', "malformed"),       # text after a closing quote
    ('Garlic,Garlic 12" Class 1,China', "column 2"),      # a quote inside an unquoted value
])
def test_malformed_quotes_on_one_line_keep_the_row_with_a_warning(tmp_path: Path, line: str, words: str):
    path = tmp_path / "q.csv"
    path.write_text(f"id,title,origin\n{line}\nLemon,Lemon Class 1,Spain\n", encoding="utf-8")
    read = read_catalog(path)
    assert [i.id for i in read.items] == ["Garlic", "Lemon"]
    assert _problems(read) == [(2, None, "warning", None)] and words in read.problems[0].reason


def test_separator_is_the_one_that_finds_id_and_title(tmp_path: Path):
    path = tmp_path / "semi.csv"
    path.write_text('id;title;"origin, country"\nGarlic;Garlic Class 1;China\n', encoding="utf-8")
    read = read_catalog(path)
    assert read.problems == [] and read.items[0].attributes == {"origin, country": "China"}


def test_decimal_commas_in_a_semicolon_csv(tmp_path: Path):
    path = tmp_path / "prices.csv"
    path.write_text("id;title;weight;fat;sizes\n"
                    "Arla-Medium-Fat-Milk;Skimmed milk 1,5%;1,03;1,5;0,5|1\n"
                    "Arla-Standard-Milk;Mjölk 3%;1.030,5;3;1,5e-2\n"
                    "Garlic;Garlic Class 1;0,050;1,500;x\n", encoding="utf-8")
    read = read_catalog(path)
    attrs = [i.attributes for i in read.items]
    assert attrs[0] == {"weight": 1.03, "fat": 1.5, "sizes": [0.5, 1.0]}
    assert attrs[1] == {"weight": 1030.5, "fat": 3, "sizes": 0.015}
    # 0,050 can only be a decimal; 1,500 could be 1.5 or 1500: kept as text and reported
    assert attrs[2] == {"weight": 0.05, "fat": "1,500", "sizes": "x"}
    assert _problems(read) == [(4, "fat", "warning", None)]
    assert "1.5" in read.problems[0].reason and "1500" in read.problems[0].reason
    # a comma file keeps commas as text, as before
    path.write_text('id,title,fat\nA,a,"1,5"\n', encoding="utf-8")
    assert read_catalog(path).items[0].attributes == {"fat": "1,5"}


def test_a_quote_closed_by_a_later_rows_quote_is_an_error_naming_the_lines(tmp_path: Path):
    # "Sour has no closing quote; the quote opening Plum's (empty, multi-line) description
    # closes it cleanly, so the csv module reads one well-formed row over lines 2-4
    path = tmp_path / "q.csv"
    path.write_text('id,title,description\nLemon,Lemon Class 1,"Sour\nOrange,Orange Class 1,Sweet\n'
                    'Plum,Plum Red Class 1,"\nGarlic,Garlic Class 1,Pungent\n', encoding="utf-8")
    read = read_catalog(path)
    assert [i.id for i in read.items] == ["Lemon", "Garlic"]
    assert _problems(read) == [(2, None, "error", None)]
    reason = read.problems[0].reason
    assert "opened on line 2" in reason and "lines 3-4" in reason and "closing quote is missing" in reason
    # a value of several lines, some with commas, is no problem
    path.write_text('id,title,description\nLemon,Lemon Class 1,"Sour,\nsharp, fresh, juicy\n'
                    'Keep cool."\nGarlic,Garlic Class 1,"Pungent\nPeel, crush, fry"\n', encoding="utf-8")
    read = read_catalog(path)
    assert read.problems == [] and [i.id for i in read.items] == ["Lemon", "Garlic"]
