"""N simulated phones over the homologated desk/DECT/video models, for the boot-storm bench.

Writes two files:
  extensions.csv  what `provisioner import extensions FILE --tenant SLUG` loads (Spanish names,
                  departments, permissions; one to the model's homologated count of lines per phone)
  phones.json     per phone: MAC, model, the files it asks for in its real boot order with the
                  User-Agent it sends for each and whether the server must answer 200
                  (tests/phones.py: real UA shapes and boot orders, phones.md §2-§4)

    .venv/bin/python bench/storm/devices.py --devices 2000 --out /tmp/storm
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from provisioner.importing.sample import DEPARTMENTS, FIRST, LAST, PERMISSIONS  # noqa: E402
from tests.phones import DESK_PHONES, SimPhone  # noqa: E402

HEADER = ("extension", "nombre", "correo", "departamento", "permisos", "mac", "modelo", "línea")


@dataclass(frozen=True)
class BootFile:
    name: str
    user_agent: str
    must_serve: bool


@dataclass(frozen=True)
class StormPhone:
    index: int
    phone: SimPhone
    lines: int

    @property
    def mac(self) -> str:
        return self.phone.mac

    def boot(self) -> list[BootFile]:
        return [BootFile(name, self.phone.user_agent(phase=phase), must) for name, phase, must in self.phone.boot_files()]

    def to_json(self) -> dict[str, object]:
        return {"index": self.index, "mac": self.mac, "model": self.phone.catalog_key, "lines": self.lines,
                "device_file": self.phone.device_file(),
                "files": [[f.name, f.user_agent, f.must_serve] for f in self.boot()]}


def storm_phones(n: int, *, seed: int = 6) -> list[StormPhone]:
    """n phones cycling over every model (distinct MACs keep the model's vendor OUI)."""
    rng = random.Random(seed)
    phones = []
    for index in range(n):
        model = DESK_PHONES[index % len(DESK_PHONES)]
        mac = f"{model.mac[:6]}{0x100000 + index:06x}"
        # Most phones carry one line; some use more, up to the homologated count.
        lines = 1 if model.lines == 1 or rng.random() < 0.7 else rng.randint(2, model.lines)
        phones.append(StormPhone(index, replace(model, mac=mac), lines))
    return phones


def extension_rows(phones: list[StormPhone], *, seed: int = 6, first_number: int = 100000) -> list[tuple[str, ...]]:
    rng = random.Random(seed)
    rows, number = [], first_number
    for p in phones:
        for line in range(1, p.lines + 1):
            first, last = rng.choice(FIRST), f"{rng.choice(LAST)} {rng.choice(LAST)}"
            email = f"ext{number}@empresa.com.co"
            rows.append((str(number), f"{first} {last}", email, rng.choice(DEPARTMENTS), rng.choice(PERMISSIONS),
                         p.mac, p.phone.model_arg, str(line)))
            number += 1
    return rows


def write(phones: list[StormPhone], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    listing, boots = out / "extensions.csv", out / "phones.json"
    with listing.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(extension_rows(phones))
    boots.write_text(json.dumps([p.to_json() for p in phones]))
    return listing, boots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    listing, boots = write(storm_phones(args.devices, seed=args.seed), args.out)
    print(f"{listing}\n{boots}")


if __name__ == "__main__":
    main()
