#!/usr/bin/env python
"""Extract one country's outline from a world-atlas TopoJSON file as GeoJSON.

Used once to derive ``src/cwledger/web/static/vendor/syria-outline.geojson`` from
``world-atlas@2.0.2/countries-50m.json`` (Natural Earth 1:50m, public domain; world-atlas
ISC): ``python scripts/extract_outline.py countries-50m.json 760 > syria-outline.geojson``.
Not run at build or run time; kept so that the derivation can be repeated and checked.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _arcs(topo: dict[str, Any]) -> list[list[tuple[float, float]]]:
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    out = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((round(x * sx + tx, 5), round(y * sy + ty, 5)))
        out.append(points)
    return out


def _ring(arcs: list[list[tuple[float, float]]], indices: list[int]) -> list[tuple[float, float]]:
    ring: list[tuple[float, float]] = []
    for i in indices:
        points = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        ring += points if not ring else points[1:]
    return ring


def main() -> None:
    path, country = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        topo = json.load(f)
    arcs = _arcs(topo)
    geometry = next(
        g for g in topo["objects"]["countries"]["geometries"] if str(g.get("id")) == country
    )
    polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
    coordinates = [[_ring(arcs, ring) for ring in polygon] for polygon in polygons]
    feature = {
        "type": "Feature",
        "properties": {"name": geometry.get("properties", {}).get("name"), "id": country},
        "geometry": {"type": "MultiPolygon", "coordinates": coordinates},
    }
    json.dump(feature, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
