DROP TABLE workday_days;
DROP TABLE workday_years;
