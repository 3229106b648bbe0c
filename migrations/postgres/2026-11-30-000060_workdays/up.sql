-- The working-day calendar: per year, the public holidays and the weekend days made working
-- days (调休) of the State Council's notice, kept by the administrator. A year without a row
-- here is counted Monday to Friday (and the due dates counted so say it).
CREATE TABLE workday_years (
    year        INTEGER PRIMARY KEY NOT NULL,
    -- The notice the days were taken from, as the administrator names it.
    source      TEXT,
    updated_by  TEXT NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE TABLE workday_days (
    day   DATE PRIMARY KEY NOT NULL,
    year  INTEGER NOT NULL REFERENCES workday_years (year),
    -- `holiday` or `workday`.
    kind  TEXT NOT NULL
);
CREATE INDEX workday_days_year_idx ON workday_days (year);

-- Shipped: 2025, from 国务院办公厅关于2025年部分节假日安排的通知. 元旦 1 January; 春节
-- 28 January to 4 February, Sunday 26 January and Saturday 8 February worked; 清明 4 to 6 April;
-- 劳动节 1 to 5 May, Sunday 27 April worked; 端午 31 May to 2 June; 国庆 and 中秋 1 to 8 October,
-- Sunday 28 September and Saturday 11 October worked.
INSERT INTO workday_years (year, source, updated_by, updated_at) VALUES
    (2025, '国务院办公厅关于2025年部分节假日安排的通知', 'wastetrack', '2026-11-30 00:00:00');
INSERT INTO workday_days (day, year, kind) VALUES
    ('2025-01-01', 2025, 'holiday'),
    ('2025-01-28', 2025, 'holiday'), ('2025-01-29', 2025, 'holiday'), ('2025-01-30', 2025, 'holiday'),
    ('2025-01-31', 2025, 'holiday'), ('2025-02-01', 2025, 'holiday'), ('2025-02-02', 2025, 'holiday'),
    ('2025-02-03', 2025, 'holiday'), ('2025-02-04', 2025, 'holiday'),
    ('2025-04-04', 2025, 'holiday'), ('2025-04-05', 2025, 'holiday'), ('2025-04-06', 2025, 'holiday'),
    ('2025-05-01', 2025, 'holiday'), ('2025-05-02', 2025, 'holiday'), ('2025-05-03', 2025, 'holiday'),
    ('2025-05-04', 2025, 'holiday'), ('2025-05-05', 2025, 'holiday'),
    ('2025-05-31', 2025, 'holiday'), ('2025-06-01', 2025, 'holiday'), ('2025-06-02', 2025, 'holiday'),
    ('2025-10-01', 2025, 'holiday'), ('2025-10-02', 2025, 'holiday'), ('2025-10-03', 2025, 'holiday'),
    ('2025-10-04', 2025, 'holiday'), ('2025-10-05', 2025, 'holiday'), ('2025-10-06', 2025, 'holiday'),
    ('2025-10-07', 2025, 'holiday'), ('2025-10-08', 2025, 'holiday'),
    ('2025-01-26', 2025, 'workday'), ('2025-02-08', 2025, 'workday'), ('2025-04-27', 2025, 'workday'),
    ('2025-09-28', 2025, 'workday'), ('2025-10-11', 2025, 'workday');
