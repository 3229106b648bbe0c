-- Patrols of an enterprise or a warehouse of a park by its office: the day (in the park's time
-- zone), the people, the checklist (a JSON array of {"item", "result"}) and a note.
CREATE TABLE patrols (
    id             TEXT PRIMARY KEY NOT NULL,
    park_id        TEXT NOT NULL REFERENCES parks (organization_id),
    enterprise_id  TEXT REFERENCES enterprises (organization_id),
    warehouse_id   TEXT REFERENCES warehouses (id),
    patrolled_on   DATE NOT NULL,
    people         TEXT NOT NULL,
    checklist      TEXT NOT NULL,
    note           TEXT,
    recorded_by    TEXT NOT NULL REFERENCES users (id),
    created_at     TIMESTAMP NOT NULL,
    CHECK ((enterprise_id IS NULL) <> (warehouse_id IS NULL))
);
CREATE INDEX patrols_park_idx ON patrols (park_id, id);
CREATE INDEX patrols_enterprise_idx ON patrols (enterprise_id, id);
-- A thread between a park office and an enterprise (or, for a finding at a warehouse, the
-- office alone): a patrol's finding with its deadline for rectification, or an enterprise's
-- feedback to its park office. `answered` is the other side's reply awaiting the office.
CREATE TABLE threads (
    id             TEXT PRIMARY KEY NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('finding', 'feedback')),
    park_id        TEXT NOT NULL REFERENCES parks (organization_id),
    enterprise_id  TEXT REFERENCES enterprises (organization_id),
    warehouse_id   TEXT REFERENCES warehouses (id),
    patrol_id      TEXT REFERENCES patrols (id),
    subject        TEXT NOT NULL,
    severity       TEXT CHECK (severity IN ('minor', 'major', 'critical')),
    deadline       DATE,
    status         TEXT NOT NULL CHECK (status IN ('open', 'answered', 'closed')),
    created_by     TEXT NOT NULL REFERENCES users (id),
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    closed_at      TIMESTAMP
);
CREATE INDEX threads_patrol_idx ON threads (patrol_id, id);
CREATE INDEX threads_park_idx ON threads (park_id, kind, id);
CREATE INDEX threads_enterprise_idx ON threads (enterprise_id, kind, id);
CREATE INDEX threads_deadline_idx ON threads (kind, status, deadline);
-- What was said in a thread, in order: its opening, answers, messages, closing and reopening.
CREATE TABLE thread_messages (
    id               TEXT PRIMARY KEY NOT NULL,
    thread_id        TEXT NOT NULL REFERENCES threads (id),
    kind             TEXT NOT NULL CHECK (kind IN ('opened', 'answer', 'message', 'closed', 'reopened')),
    body             TEXT,
    author_id        TEXT NOT NULL REFERENCES users (id),
    organization_id  TEXT NOT NULL REFERENCES organizations (id),
    created_at       TIMESTAMP NOT NULL
);
CREATE INDEX thread_messages_thread_idx ON thread_messages (thread_id, id);
-- Photos of a thread, stored in the database (see the README): the image's bytes as uploaded,
-- its type as its magic bytes say, its size and SHA-256.
CREATE TABLE thread_photos (
    id               TEXT PRIMARY KEY NOT NULL,
    thread_id        TEXT NOT NULL REFERENCES threads (id),
    content_type     TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    byte_size        BIGINT NOT NULL,
    sha256           TEXT NOT NULL,
    bytes            BYTEA NOT NULL,
    uploaded_by      TEXT NOT NULL REFERENCES users (id),
    organization_id  TEXT NOT NULL REFERENCES organizations (id),
    created_at       TIMESTAMP NOT NULL
);
CREATE INDEX thread_photos_thread_idx ON thread_photos (thread_id, id);
