"""OneWindow (一窗): queue calling and self-service kiosks for government service halls."""

from pathlib import Path

from setuptools import find_packages, setup


def shipped_tree(folder: str) -> list[tuple[str, list[str]]]:
    """Every file under `folder`, for data_files: installed to share/onewindow/<folder>/..."""
    groups: dict[str, list[str]] = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            groups.setdefault(f"share/onewindow/{path.parent.as_posix()}", []).append(
                path.as_posix()
            )
    return list(groups.items())


setup(
    name="onewindow",
    version="0.1.0",
    description="Queue calling and self-service kiosks for Chinese government service halls",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11",
    packages=find_packages(include=["onewindow*", "kiosk*", "callers*", "drivers*", "manager*"]),
    package_data={"kiosk": ["kv/*.kv"], "callers": ["kv/*.kv"], "manager": ["kv/*.kv"]},
    # not code: found beside the packages in a checkout, under share/onewindow when installed
    # (onewindow/shipped.py)
    data_files=[("share/onewindow/config", ["config/hall.toml"]), *shipped_tree("assets")],
    install_requires=[
        "paho-mqtt>=2.0",
        "pyserial>=3.5",
        "pillow>=10",
        "qrcode>=7.4",
        "tomli-w>=1.0",
        # the QR pages' HTTP server (2.1 is Debian 12's; httpserver.py rewords its error answers)
        "waitress>=2.1,<4",
        # the bad-rating follow-up's phone numbers, encrypted (Fernet); Debian 12 ships 38.0
        "cryptography>=38",
        # the printable reports as PDF with embedded Chinese (TrueType) fonts
        "reportlab>=3.6",
    ],
    extras_require={
        "ui": ["kivy>=2.3"],
        "pcsc": ["pyscard>=2.0"],
        "city": ["psycopg[binary]>=3.1"],  # the city collector and dashboard (PostgreSQL)
        # the checkers pinned to a minor version: a newer one may find new things (or format
        # otherwise), and CI should change only when the code does (scripts/lint)
        # selenium drives Debian's chromium through its chromium-driver (the QR pages' tests)
        "test": [
            "pytest>=8",
            "hypothesis>=6.100",
            "pytest-randomly>=3.15",
            "selenium>=4.10",
            "ruff>=0.17,<0.18",
            "mypy>=2.4,<2.5",
            "import-linter>=2.17,<3",
            # scripts/catalogs: extracts, merges and compiles the gettext catalogs (2.10: Debian 12)
            "Babel>=2.10",
        ],
    },
    entry_points={"console_scripts": ["onewindow=onewindow.cli:main"]},
)
