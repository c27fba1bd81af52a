"""Write the settings `make run` uses to a local file, so that a command typed in a new
terminal (`.venv/bin/python manage.py create_partner "Shop"`) runs as the demo does.

    python -m config.devenv --port 8000 [--path var/development.env]

Plain Python, no Django: it runs before the settings can be read.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "var" / "development.env"


def development_env_write(*, path: Path, port: int) -> None:
    """DEBUG on and the address being served; the secret key stays in its own file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by `make run` for commands typed in another terminal; "
        "ignored by a process given its own SECRET_KEY.\n"
        f"DEBUG=1\nSITE_URL=http://127.0.0.1:{port}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    arguments = parser.parse_args()
    development_env_write(path=arguments.path, port=arguments.port)


if __name__ == "__main__":
    main()
