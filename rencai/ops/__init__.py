"""Operations (issue 8): backup and restore of the database and the file store, and the
task worker that recovers the tasks of a worker that died (docs/operations.md)."""
