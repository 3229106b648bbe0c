#!/usr/bin/env bash
# Generates TypeScript types from openapi/openapi.json with openapi-typescript, as the
# mini-program would, and type-checks a small client module against them with tsc --strict:
# the document must give a usable typed client without hand edits.
#
# Installs both tools (pinned) into a temporary folder removed afterwards; nothing generated is
# kept. Needs node (18 or later) and npm with access to the npm registry.
#
# Usage: tests/contract/typescript.sh [path/to/openapi.json]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
doc="$(cd "$(dirname "${1:-$root/openapi/openapi.json}")" && pwd)/$(basename "${1:-openapi.json}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

npm init -y >/dev/null
npm install --silent --no-audit --no-fund --save-exact openapi-typescript@7.8.0 typescript@5.8.3 >/dev/null

npx --no-install openapi-typescript "$doc" --output schema.d.ts >/dev/null
lines=$(wc -l < schema.d.ts)

cat > client.ts <<'TS'
// A client module written against the generated types, as the mini-program would write it.
import type { components, operations, paths } from "./schema";

type Schemas = components["schemas"];
type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;

// Requests: the body of a weighing, with the enums and required fields the document states.
type WeighIn = Json<paths["/api/v1/lots"]["post"]["requestBody"]>;
const weighIn: WeighIn = {
  enterprise_id: "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
  waste_code: "900-249-08",
  physical_form: "liquid",
  container_type: "drum",
  container_count: 2,
  zone_id: "zone_0193f1c2a4b87d21a1c6e1f0b2d3c4f1",
  gross_grams: 352500,
  tare_grams: 32500,
  scale_id: "SCALE-01",
  captured_at: "2026-11-28T15:58:12+08:00",
};
// @ts-expect-error: "paste" is not a physical form
const badForm: WeighIn["physical_form"] = "paste";

// Responses: a created lot, its status an enum.
type Created = Json<paths["/api/v1/lots"]["post"]["responses"][201]>;
function describe(lot: Created): string {
  switch (lot.status) {
    case "stored":
    case "declared":
    case "voided":
    case "collected":
      return `${lot.id}: ${lot.status}, ${lot.net_grams} g`;
  }
}
// @ts-expect-error: "lost" is not a lot status
const badStatus: Schemas["LotView"]["status"] = "lost";

// Shared error responses, referenced by every operation.
type Problem = components["responses"]["Unauthenticated"]["content"]["application/problem+json"];
type WeighIn401 = paths["/api/v1/lots"]["post"]["responses"][401];
type WeighIn415 = paths["/api/v1/lots"]["post"]["responses"][415];
function explain(p: Problem): string {
  return `${p.status} ${p.title}: ${p.detail}`;
}
const unauthorized: WeighIn401["content"]["application/problem+json"] = {
  type: "urn:wastetrack:problem:unauthenticated",
  title: "Authentication is required",
  status: 401,
  detail: "no access token",
};
const unsupported: WeighIn415 = { headers: {}, content: { "application/problem+json": unauthorized } };

// Operations by id, with their parameters.
type LabelQuery = operations["label_svg"]["parameters"]["query"];
const label: LabelQuery = { size: "100" };
// @ts-expect-error: labels come in 100, 150 and 200 mm
const badLabel: LabelQuery = { size: "120" };
type Manifest = Json<operations["manifests_get"]["responses"][200]>;
const step = (m: Manifest): string => m.status;

export { weighIn, badForm, describe, badStatus, explain, unsupported, label, badLabel, step };
TS

npx --no-install tsc --noEmit --strict --target es2020 --module es2020 --moduleResolution node client.ts
echo "openapi-typescript: ${lines} lines of types from $(basename "$doc"); client.ts type-checks with tsc --strict"
