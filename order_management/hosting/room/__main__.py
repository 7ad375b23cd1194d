"""The room's commands, run inside its environment (see environment and hub)."""

import sys

from order_management.hosting.room.hub import main

main(sys.argv[1:])
