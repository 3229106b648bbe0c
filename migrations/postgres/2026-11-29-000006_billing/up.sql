-- Billing by actual weight: statements per enterprise and period (never changed once issued),
-- their lines (one per lot, each lot billed once), credit and debit notes, payments.

CREATE TABLE statements (
    id             TEXT PRIMARY KEY NOT NULL,
    number         TEXT NOT NULL UNIQUE,
    park_id        TEXT NOT NULL REFERENCES parks (organization_id),
    enterprise_id  TEXT NOT NULL REFERENCES enterprises (organization_id),
    -- The calendar month, YYYY-MM, in the park's time zone.
    period         TEXT NOT NULL,
    total_fen      BIGINT NOT NULL,
    due_on         DATE NOT NULL,
    issued_at      TIMESTAMP NOT NULL,
    issued_by      TEXT NOT NULL REFERENCES users (id),
    UNIQUE (enterprise_id, period)
);
CREATE INDEX statements_park_idx ON statements (park_id, period, id);

CREATE TABLE statement_lines (
    statement_id   TEXT NOT NULL REFERENCES statements (id),
    lot_id         TEXT NOT NULL UNIQUE REFERENCES lots (id),
    contract_id    TEXT NOT NULL REFERENCES contracts (id),
    disposer_id    TEXT NOT NULL REFERENCES organizations (id),
    waste_code     TEXT NOT NULL,
    billable_on    DATE NOT NULL,
    grams          BIGINT NOT NULL,
    fen_per_tonne  BIGINT NOT NULL,
    amount_fen     BIGINT NOT NULL,
    PRIMARY KEY (statement_id, lot_id)
);
CREATE INDEX statement_lines_disposer_idx ON statement_lines (disposer_id, statement_id);

-- A credit (negative) or debit (positive) note on an issued statement: a void, a correction or
-- a price change after issue, or an adjustment by the park office.
CREATE TABLE billing_notes (
    id             TEXT PRIMARY KEY NOT NULL,
    statement_id   TEXT NOT NULL REFERENCES statements (id),
    enterprise_id  TEXT NOT NULL REFERENCES enterprises (organization_id),
    park_id        TEXT NOT NULL REFERENCES parks (organization_id),
    disposer_id    TEXT NOT NULL REFERENCES organizations (id),
    lot_id         TEXT REFERENCES lots (id),
    -- The month in which the note was raised.
    period         TEXT NOT NULL,
    amount_fen     BIGINT NOT NULL,
    reason         TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    created_by     TEXT NOT NULL REFERENCES users (id)
);
CREATE INDEX billing_notes_statement_idx ON billing_notes (statement_id, id);
CREATE INDEX billing_notes_enterprise_idx ON billing_notes (enterprise_id, id);

CREATE TABLE payments (
    id             TEXT PRIMARY KEY NOT NULL,
    park_id        TEXT NOT NULL REFERENCES parks (organization_id),
    enterprise_id  TEXT NOT NULL REFERENCES enterprises (organization_id),
    amount_fen     BIGINT NOT NULL,
    paid_on        DATE NOT NULL,
    reference      TEXT,
    recorded_by    TEXT NOT NULL REFERENCES users (id),
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX payments_enterprise_idx ON payments (enterprise_id, paid_on);
