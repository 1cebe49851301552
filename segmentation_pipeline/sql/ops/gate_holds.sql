-- Files that failed a source's quality gate. A hold keeps the gate failing on every later run
-- until the file is re-landed (another checksum: the hold is dropped and the file judged again)
-- or a person accepts it (`python -m segmentation_pipeline accept SOURCE FILE`). One row per
-- (source, file), kept by ingest.gate.hold (no PRIMARY KEY: DuckLake has no constraints).
CREATE TABLE IF NOT EXISTS ops.gate_holds (
    source       VARCHAR NOT NULL,
    file         VARCHAR NOT NULL,   -- path relative to the raw directory
    checksum     VARCHAR,            -- the content that was held
    reason       VARCHAR NOT NULL,
    held_at      TIMESTAMP NOT NULL,
    run_id       VARCHAR,
    accepted_at  TIMESTAMP,
    accepted_by  VARCHAR
);
