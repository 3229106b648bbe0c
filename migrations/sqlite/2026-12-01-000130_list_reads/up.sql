-- Lists that stay flat as the history grows: a park's manifests the mass balance flagged (few,
-- found without reading the others), a park's manifests of one code (a range, not a walk
-- through the others) and manifests by their creation time (a day of a year ago without walking
-- the year before it).
CREATE INDEX manifests_flagged_idx ON manifests (park_id, id) WHERE flag_detail IS NOT NULL;
CREATE INDEX manifests_park_code_idx ON manifests (park_id, waste_code, id);
CREATE INDEX manifests_created_idx ON manifests (created_at);

-- A statement's totals per code, written with its lines when it is issued (a statement never
-- changes), so that a list of statements reads a few rows each instead of every line.
CREATE TABLE statement_totals (
    statement_id  TEXT NOT NULL REFERENCES statements (id),
    waste_code    TEXT NOT NULL,
    grams         BIGINT NOT NULL,
    amount_fen    BIGINT NOT NULL,
    lines         BIGINT NOT NULL,
    PRIMARY KEY (statement_id, waste_code)
);
INSERT INTO statement_totals (statement_id, waste_code, grams, amount_fen, lines)
SELECT statement_id, waste_code, SUM(grams), SUM(amount_fen), COUNT(*)
FROM statement_lines GROUP BY statement_id, waste_code;
