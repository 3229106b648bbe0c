DROP TABLE manifest_follows;
DROP TABLE manifest_refusals;
