"""Report rendering jobs: their state in the database, and who renders them.

The job interface is small on purpose: ``enqueue`` a job in the caller's transaction,
and a ``Runner`` picks queued jobs up, renders each in an isolated process and records
the outcome. The embedded runner is a thread pool inside the API process.
"""
