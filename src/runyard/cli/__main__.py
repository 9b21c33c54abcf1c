"""``python -m runyard.cli``: the same as the ``runyard`` command."""

from runyard.cli.main import main

main()
