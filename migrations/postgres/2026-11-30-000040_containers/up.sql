-- The containers of a lot, one HJ 1276-2022 label each: its place in the lot, its digital
-- identification code (hazardous waste), its own weight when the containers were weighed one by
-- one (NULL: a share of the lot's weight), and the random token of its public verification page.
CREATE TABLE lot_containers (
    lot_id        TEXT NOT NULL REFERENCES lots (id),
    position      INTEGER NOT NULL,
    label_code    TEXT UNIQUE,
    grams         BIGINT,
    verify_token  TEXT NOT NULL UNIQUE,
    PRIMARY KEY (lot_id, position)
);

-- What a lot's labels say beyond its description: harmful constituents (有害成分) and
-- precautions (注意事项). A side table, since the lots table is at the column limit.
CREATE TABLE lot_label_texts (
    lot_id              TEXT PRIMARY KEY NOT NULL REFERENCES lots (id),
    harmful_components  TEXT,
    precautions         TEXT
);

-- Lots weighed before containers were kept: one container each, with the lot's code, the lot's
-- weight shared, and a random token (two version-4 UUIDs: 244 random bits).
INSERT INTO lot_containers (lot_id, position, label_code, grams, verify_token)
SELECT id, 1, label_code, NULL, replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')
FROM lots;
