-- Indexes of the dashboard's figures (src/figures): each aggregate reads one index range.

-- Volumes: a park's weighed lots by business time, covering every column the sums group by,
-- so that a year of a large park is summed from the index alone.
CREATE INDEX lots_figures_idx
    ON lots (park_id, captured_at, status, waste_code, enterprise_id, contract_id, net_grams);

-- Pickup latency: a park's collections by capture time (joined to their request by id).
CREATE INDEX collections_park_captured_idx ON collections (park_id, captured_at, request_id);

-- Receipt latency: receipts by time, and a manifest's take-over found by manifest and step.
CREATE INDEX manifest_signatures_step_at_idx ON manifest_signatures (step, at, manifest_id);
CREATE INDEX manifest_signatures_manifest_step_idx ON manifest_signatures (manifest_id, step, at);
