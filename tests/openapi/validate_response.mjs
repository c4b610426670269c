#!/usr/bin/env node
// validate_response.mjs: validates HTTP responses against openapi/openapi.json with ajv (JSON Schema
// 2020-12, the dialect of OpenAPI 3.1) and ajv-formats. No schema logic of its own: it only finds,
// for each response, the schema the document gives for (path, method, status, media type).
//
// Input: JSONL on stdin, one response per line:
//   {"method": "POST", "path": "/api/schedules/5/backfill", "status": 200,
//    "headers": {"content-type": "application/json", ...}, "body": <parsed JSON>,
//    "request": <the request body, parsed JSON>}
// (`headers` and `request` optional; names lower-case.) When `request` is given and the status is 2xx,
// the request body must be valid per the operation's request schema too (the server accepted it). Two answers the document cannot list are checked by rule:
// a method the path does not define must be answered 405, checked against that path's documented 405
// response, with an `Allow` header naming exactly its methods (and HEAD where GET is); a path the document does not have must
// be answered 404 with the Error schema's body.
// Output: one line per mismatch on stderr; exit status 1 when any response does not validate, 2 on
// bad usage or input, 0 otherwise.
//
// Usage: node validate_response.mjs [--openapi FILE] [--modules DIR] < responses.jsonl
//   --modules DIR: the directory holding node_modules with ajv and ajv-formats (npm ci there);
//   default $WFP_NODE_MODULES, else this script's directory.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { docPath, require } from "./cli.mjs";

const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats").default;

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const DOC_ID = "openapi.json";

export function makeValidator(doc) {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  ajv.addFormat("int32", { type: "number", validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat("int64", { type: "number", validate: (n) => Number.isInteger(n) });
  // The OpenAPI document's own top-level fields, so that strict mode accepts the document as a schema
  // resource (only its schemas are ever compiled).
  ajv.addVocabulary(["openapi", "info", "jsonSchemaDialect", "servers", "security", "paths", "components",
                     "webhooks", "tags", "externalDocs"]);
  ajv.addSchema(doc, DOC_ID);
  const cache = new Map();

  const escape = (segment) => encodeURIComponent(String(segment).replace(/~/g, "~0").replace(/\//g, "~1"));
  const pointer = (segments) => DOC_ID + "#/" + segments.map(escape).join("/");
  const resolve = (object, segments) => {
    // Follows a response object's local $ref (components/responses); returns [object, its segments].
    while (object && typeof object.$ref === "string" && object.$ref.startsWith("#/")) {
      segments = object.$ref.slice(2).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
      object = segments.reduce((o, s) => (o == null ? o : o[s]), doc);
    }
    return [object, segments];
  };
  const compiled = (segments) => {
    const key = pointer(segments);
    if (!cache.has(key)) cache.set(key, ajv.compile({ $ref: key }));
    return cache.get(key);
  };
  const findPath = (target) => {
    const p = target.split("?")[0];
    for (const template of Object.keys(doc.paths || {})) {
      const re = new RegExp("^" + template.split(/\{[^}]+\}/).map((s) => s.replace(/[.*+?^$()|[\]\\]/g, "\\$&")).join("[^/]+") + "$");
      if (re.test(p)) return template;
    }
    return null;
  };
  const explain = (validate) =>
    validate.errors.map((e) => `${e.instancePath || "(root)"} ${e.message}` +
      (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : "") + ` [${e.schemaPath}]`).join("; ");

  // Returns a list of problems with one response; empty when it conforms.
  return function check(record) {
    const problems = [];
    const method = String(record.method || "").toLowerCase();
    const status = String(record.status);
    const headers = record.headers || {};
    const template = findPath(String(record.path || ""));
    if (!template) {
      // A path the document does not have: the host must answer 404 with the error body.
      if (status !== "404") return [`no path of the document matches ${record.path}, and the status is ${status}, not 404`];
      if (!doc.components?.schemas?.Error) return [`no path of the document matches ${record.path}`];
      const v = compiled(["components", "schemas", "Error"]);
      if (!v(record.body)) return [`body: ${explain(v)}`];
      return record.body.status === 404 ? [] : [`body: /status is ${record.body.status}, the HTTP status 404`];
    }
    const item = doc.paths[template];
    let operationMethod = method;
    const defined = METHODS.filter((m) => item[m]);
    if (!item[method]) {
      if (status !== "405") return [`${method.toUpperCase()} is not defined on ${template}: expected 405, got ${status}`];
      operationMethod = defined.find((m) => item[m].responses && item[m].responses["405"]);
      if (!operationMethod) return [`${template} documents no 405 response`];
      const allow = String(headers["allow"] || "").toUpperCase().split(/\s*,\s*/).filter(Boolean).sort();
      // HEAD is served wherever GET is (RFC 9110 9.3.2), so the server lists it without the document.
      const want = defined.map((m) => m.toUpperCase());
      if (want.includes("GET") && !want.includes("HEAD")) want.push("HEAD");
      want.sort();
      if (JSON.stringify(allow) !== JSON.stringify(want))
        problems.push(`Allow is '${headers["allow"] || ""}', the document defines ${want.join(", ")}`);
    }
    const responses = item[operationMethod].responses || {};
    const code = [status, status[0] + "XX", "default"].find((c) => responses[c]);
    if (!code) return [`status ${status} is not documented for ${operationMethod.toUpperCase()} ${template}`];
    const [response, responseSegments] = resolve(responses[code], ["paths", template, operationMethod, "responses", code]);
    for (const [name, header] of Object.entries(response.headers || {})) {
      const value = headers[name.toLowerCase()];
      if (value === undefined) {
        if (header.required) problems.push(`header ${name} is required and missing`);
        continue;
      }
      if (header.schema) {
        const v = compiled([...responseSegments, "headers", name, "schema"]);
        if (!v(value)) problems.push(`header ${name}: ${explain(v)}`);
      }
    }
    // A request body the server accepted (2xx) must be valid per the document's request schema.
    const requestSchema = item[operationMethod].requestBody?.content?.["application/json"]?.schema;
    if (record.request !== undefined && status[0] === "2" && operationMethod === method && requestSchema) {
      const v = compiled(["paths", template, method, "requestBody", "content", "application/json", "schema"]);
      if (!v(record.request)) problems.push(`request body accepted with ${status} but invalid per the document: ${explain(v)}`);
    }
    const content = response.content || {};
    const mediaTypes = Object.keys(content);
    if (mediaTypes.length === 0) {
      if (record.body !== undefined && record.body !== null && record.body !== "")
        problems.push(`the document gives no body for ${status}, but there is one`);
      return problems;
    }
    const given = String(headers["content-type"] || "application/json").split(";")[0].trim().toLowerCase();
    const media = mediaTypes.find((m) => m.toLowerCase() === given);
    if (!media) return [...problems, `Content-Type ${given} is not among the documented ${mediaTypes.join(", ")}`];
    if (content[media].schema) {
      const v = compiled([...responseSegments, "content", media, "schema"]);
      if (!v(record.body)) problems.push(`body: ${explain(v)}`);
    }
    return problems;
  };
}

function main() {
  let doc;
  try {
    doc = JSON.parse(readFileSync(docPath, "utf8"));
  } catch (e) {
    console.error(`validate_response: cannot read ${docPath}: ${e.message}`);
    process.exit(2);
  }
  const check = makeValidator(doc);
  const lines = readFileSync(0, "utf8").split("\n").filter((l) => l.trim() !== "");
  let failed = 0;
  lines.forEach((line, i) => {
    let record;
    try {
      record = JSON.parse(line);
    } catch (e) {
      console.error(`validate_response: line ${i + 1} is not JSON: ${e.message}`);
      process.exit(2);
    }
    let problems;
    try {
      problems = check(record);
    } catch (e) {
      problems = [`the document's schema does not compile: ${e.message}`];
    }
    if (problems.length) {
      ++failed;
      const label = record.label ? ` (${record.label})` : "";
      console.error(`line ${i + 1}${label}: ${record.method} ${record.path} ${record.status}: ${problems.join("; ")}`);
    }
  });
  console.log(`validate_response: ${lines.length - failed} of ${lines.length} responses conform to ${path.basename(docPath)}`);
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
