-- The manifest of landing files: one row per file ever seen, with its checksum and row accounting.
-- A file whose size, mtime and checksum are unchanged is not read again; a re-landed file replaces
-- exactly its own rows in staging and quarantine. One row per (source, file), kept by
-- landing_file_upsert.sql (no PRIMARY KEY: DuckLake has no constraints; warehouses created before keep theirs).
CREATE TABLE IF NOT EXISTS ops.landing_files (
    source            VARCHAR NOT NULL,
    file              VARCHAR NOT NULL,   -- path relative to the raw directory
    landing_date      DATE,               -- from the file name; NULL when the name is wrong
    size_bytes        BIGINT,
    mtime_ns          BIGINT,
    checksum          VARCHAR,            -- BLAKE2b of the file's bytes
    status            VARCHAR NOT NULL,   -- loaded | partially_loaded | rejected | empty
    error             VARCHAR,            -- why the whole file was rejected
    rows_received     BIGINT,             -- NULL when the file could not be read at all
    rows_loaded       BIGINT NOT NULL,
    rows_quarantined  BIGINT NOT NULL,
    as_of_date        DATE,               -- analysis date of the run that loaded it
    loaded_at         TIMESTAMP NOT NULL,
    run_id            VARCHAR
);
-- Added later (warehouses created before them gain them here): the inode and change time make the
-- size+mtime shortcut safe (a copy that keeps size and mtime still changes both); rows_expected
-- counts quarantined rows whose every rule is declared expected (SEGMENTATION_EXPECTED_REJECTIONS).
ALTER TABLE ops.landing_files ADD COLUMN IF NOT EXISTS inode BIGINT;
ALTER TABLE ops.landing_files ADD COLUMN IF NOT EXISTS ctime_ns BIGINT;
ALTER TABLE ops.landing_files ADD COLUMN IF NOT EXISTS rows_expected BIGINT DEFAULT 0;
