DROP TABLE payments;
DROP TABLE billing_notes;
DROP TABLE statement_lines;
DROP TABLE statements;
