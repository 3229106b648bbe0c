-- The waste profile of an enterprise (what it produces, how much it expects, how it handles
-- each kind today, where it keeps waste on its premises). One current profile per enterprise;
-- every version is kept in `revisions` (entity `profile`).
CREATE TABLE enterprise_profiles (
    enterprise_id    TEXT PRIMARY KEY REFERENCES organizations (id),
    park_id          TEXT NOT NULL,
    person_in_charge TEXT,
    person_phone     TEXT,
    note             TEXT,
    version          INTEGER NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    updated_by       TEXT NOT NULL
);

-- The kinds of waste of a profile: expected grams per month and today's handling
-- (park_warehouse, own_contract, recycler).
CREATE TABLE profile_wastes (
    enterprise_id    TEXT NOT NULL REFERENCES enterprise_profiles (enterprise_id),
    waste_code       TEXT NOT NULL,
    grams_per_month  BIGINT NOT NULL,
    handling         TEXT NOT NULL,
    PRIMARY KEY (enterprise_id, waste_code)
);

-- The enterprise's own storage points inside its premises.
CREATE TABLE profile_storage_points (
    enterprise_id  TEXT NOT NULL REFERENCES enterprise_profiles (enterprise_id),
    position       INTEGER NOT NULL,
    name           TEXT NOT NULL,
    location       TEXT NOT NULL,
    capacity_grams BIGINT,
    PRIMARY KEY (enterprise_id, position)
);

-- A lot weighed or declared with a code outside its enterprise's profile (accepted, flagged
-- for the park office). Only flagged lots have a row.
CREATE TABLE lot_profile_flags (
    lot_id        TEXT PRIMARY KEY REFERENCES lots (id),
    park_id       TEXT NOT NULL,
    enterprise_id TEXT NOT NULL,
    waste_code    TEXT NOT NULL,
    flagged_at    TIMESTAMP NOT NULL
);
CREATE INDEX lot_profile_flags_park_idx ON lot_profile_flags (park_id, lot_id);
CREATE INDEX lot_profile_flags_enterprise_idx ON lot_profile_flags (enterprise_id, lot_id);

-- What the park office recorded of one of an enterprise's "five haves" (五个有), where the data
-- says nothing; the latest record per have. Earlier records are kept in `revisions`.
CREATE TABLE five_have_records (
    enterprise_id TEXT NOT NULL REFERENCES organizations (id),
    have          TEXT NOT NULL,
    met           BOOLEAN NOT NULL DEFAULT 0,
    note          TEXT,
    recorded_at   TIMESTAMP NOT NULL,
    recorded_by   TEXT NOT NULL,
    PRIMARY KEY (enterprise_id, have)
);
