"""The package as users install it: a wheel built from this checkout carries the built web
UI (so ``pip install runyard[server]`` serves it with no Node), the notebook widget's
assets, and every schema migration."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "src" / "runyard" / "server" / "ui" / "dist"


def test_the_wheel_ships_the_web_ui_the_widget_and_the_migrations(tmp_path: Path) -> None:
    # Built from a copy: setuptools leaves build/ behind, and a stale build/ in the
    # checkout could put files in a later wheel that the sources no longer have.
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(
        ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__")
    )
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(tree), "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("runyard-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    # The page and every asset it names.
    assert "runyard/server/ui/dist/index.html" in names
    page = (DIST / "index.html").read_text()
    assets = re.findall(r'(?:src|href)="/(assets/[^"]+)"', page)
    assert assets, page
    for asset in assets:
        assert f"runyard/server/ui/dist/{asset}" in names, asset
    assert any(n.startswith("runyard/widgets/static/") and n.endswith(".js") for n in names)
    for folder in ("tracking/sql/migrations", "server/identity/migrations"):
        shipped = {n for n in names if n.startswith(f"runyard/{folder}/versions/")}
        on_disk = {
            f"runyard/{folder}/versions/{p.name}"
            for p in (ROOT / "src" / "runyard" / folder / "versions").glob("*.py")
        }
        assert on_disk and on_disk <= shipped, on_disk - shipped
        assert f"runyard/{folder}/script.py.mako" in names
