"""Where Temporal is and how the workshop talks to it, from this machine.

- config: the server's address, namespace and credentials (Temporal's client environment
  configuration), the task queue, and where local state lives
- connection: `connect()`, one call for scripts, workers, notebooks and tests
- devserver: the real `temporal server start-dev`, started and stopped for you
- logs: a worker's log, one readable line per problem
- proc: a process's state and parent, from /proc (the dev server's and the room's checks)
"""
