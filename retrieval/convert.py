"""Turn public datasets into catalogs and interaction logs this project reads.

- :func:`convert_grocery`: the Grocery Store Dataset (Klasson et al.) -> ``grocery.jsonl`` +
  ``images/`` (the shipped demo catalog is made this way).
- :func:`convert_redial_movies`: ReDial's ``movies_id2info.json`` (+ ``movies_with_mentions.csv``)
  -> a movie catalog whose ids are ReDial movie ids.
- :func:`convert_movielens`: MovieLens ``ratings.csv`` -> an interaction log ``user,item,rating``
  whose items are ReDial movie ids (joined through IMDb ids).

Command line: ``python -m retrieval convert grocery|redial-movies|movielens ...``.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .errors import CatalogError, InputError


@dataclass
class Converted:
    """What a converter wrote: the output file, how many rows, and anything left out."""

    path: Path
    rows: int
    notes: list[str] = field(default_factory=list)
    # converter-specific counts (e.g. users, items, unmapped movies)
    counts: dict[str, int] = field(default_factory=dict)


# ---- Grocery Store Dataset ------------------------------------------------------------------

# The product pages were Swedish; the country field mixes both languages.
_COUNTRY_NAMES = {"Sverige": "Sweden"}


def convert_grocery(src_dir: str | Path, out_dir: str | Path) -> Converted:
    """Convert the Grocery Store Dataset folder (with ``classes.csv``) into
    ``OUT_DIR/grocery.jsonl`` and ``OUT_DIR/images/<Class>.jpg``.

    One item per row of ``classes.csv``: id = class name (``Golden-Delicious``), title from
    the ``Title:`` line of ``<Class>_Information.txt`` (else the class name with spaces),
    description from ``<Class>_Description.txt``, attributes ``category`` (coarse class),
    ``group`` (Fruit / Vegetables / Packages), and when the information file gives them
    ``origin``, ``size`` and ``manufacturer``.
    """
    src, out = Path(src_dir), Path(out_dir)
    classes = src / "classes.csv"
    if not classes.is_file():
        raise CatalogError(f"{src} is not the Grocery Store Dataset folder: {classes} not found")
    (out / "images").mkdir(parents=True, exist_ok=True)
    rows, notes = [], []
    with classes.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        col = _grocery_columns(classes, header)
        for record in reader:
            if not record or not record[col["class"]].strip():
                continue
            name = record[col["class"]].strip()
            image_rel = record[col["image"]].strip().lstrip("/")
            image = src / image_rel
            folder = image.parent
            info = _read_information(folder, name)
            description = _read_text(src / record[col["description"]].strip().lstrip("/"))
            if not description:
                description = info.get("description", "")
            attributes: dict[str, Any] = {"category": record[col["coarse"]].strip()}
            parts = Path(image_rel).parts
            if len(parts) > 1:
                attributes["group"] = parts[1]  # iconic-images-and-descriptions/<group>/...
            attributes.update(_info_attributes(info))
            row: dict[str, Any] = {
                "id": name,
                "title": info.get("title") or name.replace("-", " "),
                "description": description,
            }
            if image.is_file():
                target = out / "images" / f"{name}.jpg"
                shutil.copyfile(image, target)
                row["image"] = f"images/{target.name}"
            else:
                notes.append(f"{name}: image {image} not found; item written without image")
            if not description:
                notes.append(f"{name}: no description found")
            row["attributes"] = attributes
            rows.append(row)
    target = out / "grocery.jsonl"
    _write_jsonl(target, rows)
    return Converted(path=target, rows=len(rows), notes=notes)


def _grocery_columns(path: Path, header: list[str]) -> dict[str, int]:
    wanted = {"class": "Class Name", "coarse": "Coarse Class Name", "image": "Iconic Image Path",
              "description": "Product Description Path"}
    found = {}
    for key, prefix in wanted.items():
        for i, name in enumerate(header):
            if name.strip().startswith(prefix):
                found[key] = i
                break
        else:
            raise CatalogError(f"{path}: no column starting with {prefix!r} in the header {header}")
    return found


def _read_text(path: Path) -> str:
    try:
        return " ".join(path.read_text(encoding="utf-8-sig").replace("\xa0", " ").split())
    except (OSError, UnicodeDecodeError):
        return ""


def _read_information(folder: Path, name: str) -> dict[str, str]:
    """The ``Key: value`` lines of ``<Class>_Information.txt`` (keys lower-cased)."""
    candidates = [folder / f"{name}_Information.txt", folder / f"{name}-Information.txt"]
    candidates += sorted(folder.glob("*Information.txt"))
    for path in candidates:
        if path.is_file():
            break
    else:
        return {}
    info: dict[str, str] = {}
    text = path.read_text(encoding="utf-8-sig", errors="replace").replace("\xa0", " ")
    for line in text.splitlines():
        # nutrition tables are indented continuation lines: not fields
        match = re.match(r"^([A-Z][A-Za-z ]*?):\s*(.*)$", line)
        if match:
            info.setdefault(match.group(1).strip().lower(), " ".join(match.group(2).split()))
    return info


def _info_attributes(info: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # Fresh produce: "Country and volume: Italy, ca 180g"; packages: "Manufacturer and
    # volume: ARLA KO , 1l" + "Manufacturing country: Sweden"; some fruit: "Country: Spain".
    if "country and volume" in info:
        country, _, size = info["country and volume"].rpartition(",")
        if country.strip():
            out["origin"] = country.strip()
        if size.strip():
            out["size"] = size.strip()
    if "manufacturer and volume" in info:
        maker, _, size = info["manufacturer and volume"].rpartition(",")
        if maker.strip():
            out["manufacturer"] = maker.strip().title()
        if size.strip():
            out["size"] = size.strip()
    for key in ("country", "manufacturing country"):
        if key in info and info[key].strip() and "origin" not in out:
            out["origin"] = info[key].strip()
    if "origin" in out:
        out["origin"] = _COUNTRY_NAMES.get(out["origin"], out["origin"])
    return out


# ---- ReDial movies ---------------------------------------------------------------------------

_YEAR = re.compile(r"\((\d{4})\)\s*$")


def convert_redial_movies(id2info_json: str | Path, out_path: str | Path,
                          mentions_csv: str | Path | None = None) -> Converted:
    """Write a movie catalog (JSONL) from ReDial's ``movies_id2info.json``.

    id = ReDial movie id, title = name (``Pari (1995)``), description = plot, attributes
    ``year`` (int, from the title), ``genre``, ``director``, ``writer``, ``star`` (lists)
    and ``imdb_id``. With ``mentions_csv`` (``movies_with_mentions.csv``) every movie
    listed there is included too; those without information get only title and year.
    """
    out_path = Path(out_path)
    if out_path.suffix.lower() not in (".jsonl", ".ndjson"):
        raise InputError(f"output {out_path} must end in .jsonl: movie attributes are lists")
    info = _load_json_object(Path(id2info_json))
    mentions = _read_mentions(Path(mentions_csv)) if mentions_csv else {}
    rows = []
    only_mentions = 0
    for movie_id in sorted(set(info) | set(mentions), key=_id_order):
        entry = info.get(movie_id)
        if isinstance(entry, dict) and str(entry.get("name") or "").strip():
            rows.append(_movie_row(movie_id, entry, mentions.get(movie_id)))
        elif movie_id in mentions:
            only_mentions += 1
            rows.append(_movie_row(movie_id, {"name": mentions[movie_id]}, None))
    _write_jsonl(out_path, rows)
    return Converted(path=out_path, rows=len(rows),
                     counts={"with_info": len(rows) - only_mentions, "title_only": only_mentions})


def _movie_row(movie_id: str, entry: dict[str, Any], mention_name: str | None) -> dict[str, Any]:
    title = " ".join(str(entry["name"]).split())
    year = _YEAR.search(title) or (_YEAR.search(mention_name) if mention_name else None)
    attributes: dict[str, Any] = {}
    if year:
        attributes["year"] = int(year.group(1))
    for key in ("genre", "director", "writer", "star"):
        values = entry.get(key) or []
        if isinstance(values, str):
            values = [values]
        values = [" ".join(str(v).split()) for v in values if str(v).strip()]
        if values:
            attributes[key] = values
    if str(entry.get("imdb_id") or "").strip():
        attributes["imdb_id"] = str(entry["imdb_id"]).strip()
    row: dict[str, Any] = {"id": movie_id, "title": title}
    plot = " ".join(str(entry.get("plot") or "").split())
    if plot:
        row["description"] = plot
    row["attributes"] = attributes
    return row


def _read_mentions(path: Path) -> dict[str, str]:
    """movieId -> name from ``movies_with_mentions.csv`` (names are URL-quoted there: %3F)."""
    out = {}
    with _open_csv(path) as f:
        for row in csv.DictReader(f):
            movie_id = (row.get("movieId") or "").strip()
            name = " ".join(unquote(row.get("movieName") or "").split())
            if movie_id and name:
                out[movie_id] = name
    if not out:
        raise CatalogError(f"{path} has no movieId,movieName rows")
    return out


# ---- MovieLens -> interaction log ------------------------------------------------------------


def convert_movielens(ratings_csv: str | Path, links_csv: str | Path, id2info_json: str | Path,
                      out_csv: str | Path) -> Converted:
    """Write ``user,item,rating`` rows from MovieLens ratings, items as ReDial movie ids.

    MovieLens ``movieId`` -> ``imdbId`` (links.csv) -> ``"tt" + imdbId`` zero-padded to 7
    digits -> the ReDial id with that ``imdb_id`` in ``movies_id2info.json`` (the smallest id
    when ReDial lists a movie twice). Ratings of movies ReDial does not know are dropped.
    """
    imdb_to_redial: dict[str, str] = {}
    for movie_id, entry in sorted(_load_json_object(Path(id2info_json)).items(), key=lambda kv: _id_order(kv[0])):
        imdb = str(entry.get("imdb_id") or "").strip() if isinstance(entry, dict) else ""
        if imdb:
            imdb_to_redial.setdefault(imdb, movie_id)
    ml_to_redial: dict[str, str] = {}
    with _open_csv(Path(links_csv)) as f:
        for row in csv.DictReader(f):
            imdb = (row.get("imdbId") or "").strip()
            if imdb.isdigit():
                redial = imdb_to_redial.get("tt" + imdb.zfill(7))
                if redial:
                    ml_to_redial[row["movieId"].strip()] = redial
    if not ml_to_redial:
        raise CatalogError(f"no MovieLens movie in {links_csv} matched an imdb_id in {id2info_json}")
    out_csv = Path(out_csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    written = dropped = 0
    users, items = set(), set()
    with _open_csv(Path(ratings_csv)) as f, out_csv.open("w", encoding="utf-8", newline="") as out:
        reader = csv.DictReader(f)
        missing = {"userId", "movieId", "rating"} - set(reader.fieldnames or [])
        if missing:
            raise CatalogError(f"{ratings_csv} lacks the column(s) {', '.join(sorted(missing))}")
        writer = csv.writer(out)
        writer.writerow(["user", "item", "rating"])
        for row in reader:
            item = ml_to_redial.get(row["movieId"].strip())
            if item is None:
                dropped += 1
                continue
            writer.writerow([row["userId"].strip(), item, row["rating"].strip()])
            written += 1
            users.add(row["userId"])
            items.add(item)
    return Converted(path=out_csv, rows=written,
                     counts={"users": len(users), "items": len(items), "dropped_ratings": dropped,
                             "mapped_movies": len(ml_to_redial)})


# ---- helpers -----------------------------------------------------------------------------------


def _id_order(movie_id: str) -> tuple[int, str]:
    return (int(movie_id), "") if movie_id.isdigit() else (1 << 62, movie_id)


def _load_json_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise CatalogError(f"{path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CatalogError(f"{path} is not a valid JSON file: {e}") from None
    if not isinstance(data, dict):
        raise CatalogError(f"{path} must hold one JSON object {{movie id: info}}")
    return data


def _open_csv(path: Path):
    if not path.is_file():
        raise CatalogError(f"{path} does not exist")
    return path.open(encoding="utf-8-sig", newline="")


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)  # a half-written catalog never replaces a good one
