DROP INDEX lots_enterprise_captured_idx;
DROP INDEX lots_captured_idx;
DROP TABLE stock_movements;
