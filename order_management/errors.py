"""The workshop's own errors: one base class for all of them.

Every error the workshop raises on purpose (a bad order, no server, a bad parameter, a worker
process that died) derives from `WorkshopError`, and its message already says what happened
and what to do next. So a script prints it as one line, and the notebook's cell display shows
it as one line, without a list of classes to keep up to date: a new error class only has to
derive from `WorkshopError`.
"""

from __future__ import annotations


class WorkshopError(Exception):
    """An error of the workshop's own whose message is the whole story: show it as one line,
    never as a traceback."""
