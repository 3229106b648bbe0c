CREATE TABLE login_failures_old (
    id         TEXT PRIMARY KEY NOT NULL,
    scope      TEXT NOT NULL CHECK (scope IN ('account', 'address')),
    subject    TEXT NOT NULL,
    failed_at  TIMESTAMP NOT NULL
);
INSERT INTO login_failures_old (id, scope, subject, failed_at)
    SELECT id, scope, subject, failed_at FROM login_failures WHERE scope IN ('account', 'address');
DROP TABLE login_failures;
ALTER TABLE login_failures_old RENAME TO login_failures;
CREATE INDEX login_failures_subject_idx ON login_failures (scope, subject, failed_at);
