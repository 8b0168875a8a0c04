"""`python -m rasa_boot <rasa arguments>`: Rasa's own command line, with rasa_boot's set-up first."""
from __future__ import annotations

from rasa_boot import action_results


def main() -> None:
    action_results.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()  # reads sys.argv[1:] as `rasa` would


if __name__ == "__main__":
    main()
