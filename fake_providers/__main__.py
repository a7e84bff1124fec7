"""``python -m fake_providers [--port N]``: serve the fake providers in the foreground."""

from __future__ import annotations

import argparse

from fake_providers.server import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m fake_providers", description=__doc__)
    parser.add_argument("--port", type=int, default=9100)
    main(parser.parse_args().port)
