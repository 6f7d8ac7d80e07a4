"""``python -m nwbmotor`` is the ``nwbmotor`` command."""

from nwbmotor._cli import main

main()
