-- Organisations, users and sessions. Times are UTC; ids are opaque text.
CREATE TABLE organizations (
    id          TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('platform', 'park', 'enterprise', 'disposal_company', 'carrier', 'environment_bureau')),
    name        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id               TEXT PRIMARY KEY NOT NULL,
    organization_id  TEXT NOT NULL REFERENCES organizations (id),
    username         TEXT NOT NULL UNIQUE,
    display_name     TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('platform_admin', 'park_office', 'enterprise_user', 'disposer_dispatcher', 'driver', 'inspector')),
    password_hash    TEXT NOT NULL,
    deactivated_at   TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX users_organization_idx ON users (organization_id, id);

-- A session is one login: the family of refresh tokens that rotate from it.
CREATE TABLE sessions (
    id              TEXT PRIMARY KEY NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users (id),
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    revoked_at      TIMESTAMP,
    revoked_reason  TEXT
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Refresh tokens are stored as SHA-256 digests only.
CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    session_id  TEXT NOT NULL REFERENCES sessions (id),
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

-- Failed logins, one row per failure and per throttled subject (an account or a client address).
CREATE TABLE login_failures (
    id         TEXT PRIMARY KEY NOT NULL,
    scope      TEXT NOT NULL CHECK (scope IN ('account', 'address')),
    subject    TEXT NOT NULL,
    failed_at  TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_subject_idx ON login_failures (scope, subject, failed_at);
