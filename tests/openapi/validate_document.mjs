#!/usr/bin/env node
// validate_document.mjs: checks openapi/openapi.json itself.
//   1. @apidevtools/swagger-parser validates it as an OpenAPI 3.1 document (its official schema, refs).
//   2. ajv (2020-12, strict mode) compiles every schema of components/schemas: no unknown keyword,
//      no unknown format, no contradictory types.
//   3. The backfill route documents every status of the spec, each error with the error body, and
//      an ETag header on 200.
//   4. The request schema says what docs/route.md says: a table of bodies it must accept
//      and bodies it must refuse (the rules JSON Schema can express).
//   5. Every file of the repository the document names (docs/route.md, ...) exists.
// Usage: node validate_document.mjs [--openapi FILE] [--modules DIR]   (DIR holds node_modules)
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { docPath, require } from "./cli.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const SwaggerParser = require("@apidevtools/swagger-parser");
const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats").default;

const failures = [];
const fail = (m) => failures.push(m);
const doc = JSON.parse(readFileSync(docPath, "utf8"));

// 1. The document as OpenAPI 3.1.
try {
  const api = await SwaggerParser.validate(structuredClone(doc));
  if (!String(api.openapi).startsWith("3.1.")) fail(`openapi is ${api.openapi}, expected 3.1.x`);
} catch (e) {
  fail(`swagger-parser: ${e.message}`);
}

// 2. Every schema compiles in strict mode.
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
ajv.addFormat("int32", { type: "number", validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
ajv.addVocabulary(["openapi", "info", "jsonSchemaDialect", "servers", "security", "paths", "components",
                   "webhooks", "tags", "externalDocs"]);
ajv.addSchema(doc, "openapi.json");
const compile = (name) => ajv.compile({ $ref: `openapi.json#/components/schemas/${name}` });
for (const name of Object.keys(doc.components.schemas)) {
  try {
    compile(name);
  } catch (e) {
    fail(`components/schemas/${name} does not compile: ${e.message}`);
  }
}

// 3. The route's statuses.
const op = doc.paths["/api/schedules/{id}/backfill"]?.post;
if (!op) {
  fail("no POST /api/schedules/{id}/backfill");
} else {
  for (const status of ["200", "400", "401", "404", "405", "409", "412", "413", "415", "500", "503"]) {
    const r = op.responses[status];
    if (!r) {
      fail(`POST backfill: status ${status} is not documented`);
      continue;
    }
    const schema = r.content?.["application/json"]?.schema;
    if (!schema) fail(`POST backfill ${status}: no application/json schema`);
    if (status !== "200" && !JSON.stringify(schema).includes("#/components/schemas/Error"))
      fail(`POST backfill ${status}: the body is not the Error schema`);
  }
  if (!op.responses["200"]?.headers?.ETag) fail("POST backfill 200: no ETag header");
  if (!op.requestBody?.required) fail("POST backfill: the request body is not required");
}
if (!doc.paths["/api/openapi.json"]?.get) fail("no GET /api/openapi.json");
const schemes = doc.components.securitySchemes || {};
if (!Object.values(schemes).some((s) => s.type === "http" && s.scheme === "bearer")) fail("no bearer scheme");
if (!Object.values(schemes).some((s) => s.type === "apiKey" && s.in === "header" && s.name === "X-API-Key"))
  fail("no X-API-Key header scheme");

// 4. The request schema against the spec's rules.
const request = compile("BackfillRequest");
// The table is shared with check_responses.py, which sends the same bodies to the plugin: the plugin
// must answer 400 exactly where the schema refuses.
const cases = JSON.parse(readFileSync(path.join(here, "request_cases.json"), "utf8"));
const accept = cases.accept.map((c) => c.body);
const refuse = cases.refuse.map((c) => [c.body, c.why]);
for (const body of accept) if (!request(body)) fail(`request schema refuses ${JSON.stringify(body)}: ${ajv.errorsText(request.errors)}`);
for (const [body, why] of refuse) if (request(body)) fail(`request schema accepts ${JSON.stringify(body)} (${why})`);
for (const [name, example] of Object.entries(op?.requestBody?.content?.["application/json"]?.examples || {}))
  if (!request(example.value)) fail(`request example ${name} does not validate`);

// 5. Every file of this repository the document names (`docs/route.md`, ...) exists.
const repo = path.join(here, "..", "..");
for (const named of new Set(JSON.stringify(doc).match(/\b(?:docs|spec)\/[\w./-]+\.md\b/g) || []))
  if (!existsSync(path.join(repo, named))) fail(`the document names ${named}, which is not in the repository`);

for (const f of failures) console.error(`validate_document: ${f}`);
console.log(`validate_document: ${path.basename(docPath)}: ${failures.length ? failures.length + " problem(s)" : "valid"}`);
process.exit(failures.length ? 1 : 0);
