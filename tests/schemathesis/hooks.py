"""Hooks for the schemathesis run (see run.sh).

A long-poll that finds nothing new waits `wait` seconds (up to 30): here
it waits at most 1 s, so the run stays short while parking and answering
from the waiting room are still exercised. The long-poll tests in
tests/integration/longpoll.rs cover the real waits.
"""

import schemathesis


@schemathesis.hook
def before_call(context, case, kwargs):
    query = case.query
    if not query or "wait" not in query:
        return
    try:
        wait = int(str(query["wait"]).strip())
    except ValueError:
        return
    if 1 < wait <= 30:
        query["wait"] = 1
