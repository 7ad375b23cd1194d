"""`python -m order_management.room start|stop|status|remove` (see hub)."""

import sys

from order_management.room.hub import main

main(sys.argv[1:])
