DROP TABLE statement_totals;
DROP INDEX manifests_created_idx;
DROP INDEX manifests_park_code_idx;
DROP INDEX manifests_flagged_idx;
