/**
 * Validates response bodies against GitHub's published OpenAPI description
 * (@octokit/openapi, `generated/api.github.com.json`), so the test fake for
 * the GitHub API (github-fake.ts) cannot drift from what GitHub documents.
 *
 * Import the single 13 MB file, never the package index (which
 * loads every GHES/GHEC variant, ~900 MB). The file is read lazily on first
 * use and shared by every validator of the test process.
 *
 * The description is OpenAPI 3.0.3. Its schemas are JSON Schema plus
 * OpenAPI's `nullable: true`, which Ajv's own `nullable` support cannot take
 * as written: 128 nullable schemas have no `type` (Ajv throws) and 69 are
 * nullable enums whose list lacks `null` (Ajv would reject the null that
 * OpenAPI allows). So every `nullable: true` schema is rewritten once to
 * `anyOf: [<schema>, { type: "null" }]`, the OpenAPI 3.0 meaning. No `$ref`
 * in the file has sibling keywords, boolean `exclusiveMinimum` is not used,
 * and every format it uses (uri, uri-template, date-time, date, email,
 * int64) is one ajv-formats knows. Other OpenAPI keywords (`discriminator`,
 * `example`, `x-*`, `readOnly`) are annotations: `strict: false` ignores them.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete" | "head";

export interface ValidationResult {
  valid: boolean;
  /** Ajv's errors, formatted one per line, when not valid. */
  errors: string[];
  /** The response status the schema came from ("200", "default"), or null when the operation documents no body for it. */
  schemaFor: string | null;
}

export interface OpenApiValidator {
  /**
   * Validates `body` as the response of `method path` with `status`.
   * `path` is the template exactly as GitHub's description spells it, e.g.
   * `/repos/{owner}/{repo}/pulls/{pull_number}/reviews`.
   * Throws when the operation is not in the description.
   */
  validate(method: HttpMethod | Uppercase<HttpMethod>, path: string, status: number, body: unknown): ValidationResult;
  /** Like validate, but throws an Error listing every schema violation. */
  assertValid(method: HttpMethod | Uppercase<HttpMethod>, path: string, status: number, body: unknown): void;
  /** Validates `body` against one named schema of `components.schemas` (e.g. "basic-error"). */
  validateComponent(name: string, body: unknown): ValidationResult;
  /** Whether the description has this operation. */
  hasOperation(method: HttpMethod | Uppercase<HttpMethod>, path: string): boolean;
  /** Whether the description documents a JSON body for this status of the operation. */
  documentsStatus(method: HttpMethod | Uppercase<HttpMethod>, path: string, status: number): boolean;
}

const SPEC_ID = "https://api.github.com/openapi.json";

interface Loaded {
  spec: JsonObject;
  ajv: Ajv;
  cache: Map<string, ValidateFunction | null>;
}

let loaded: Loaded | undefined;

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Rewrites OpenAPI 3.0 `nullable: true` into JSON Schema, walking only
 * schema positions (so a property *named* "nullable" is left alone).
 */
function convertSchema(schema: Json): Json {
  if (!isObject(schema)) return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    switch (key) {
      case "properties":
      case "patternProperties":
        out[key] = isObject(value)
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convertSchema(v)]))
          : value;
        break;
      case "items":
      case "additionalProperties":
      case "not":
        out[key] = Array.isArray(value) ? value.map(convertSchema) : convertSchema(value);
        break;
      case "allOf":
      case "anyOf":
      case "oneOf":
        out[key] = Array.isArray(value) ? value.map(convertSchema) : value;
        break;
      default:
        out[key] = value;
    }
  }
  if (out["nullable"] === true) {
    delete out["nullable"];
    return { anyOf: [out, { type: "null" }] };
  }
  delete out["nullable"];
  return out;
}

function load(): Loaded {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const file = require.resolve("@octokit/openapi/generated/api.github.com.json");
  const spec = JSON.parse(readFileSync(file, "utf8")) as JsonObject;
  const components = spec["components"];
  if (!isObject(components) || !isObject(components["schemas"])) {
    throw new Error(`${file}: no components.schemas`);
  }
  const schemas = Object.fromEntries(
    Object.entries(components["schemas"]).map(([name, s]) => [name, convertSchema(s)]),
  );
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats.default(ajv);
  // Only the schemas are registered; response schemas from `paths` are
  // compiled on demand with their "#/components/..." refs pointed here.
  ajv.addSchema({ $id: SPEC_ID, components: { schemas } } as object);
  loaded = { spec, ajv, cache: new Map() };
  return loaded;
}

/** Points local refs (`#/components/...`) of a path's schema at the registered components. */
function rebaseRefs(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(rebaseRefs);
  if (!isObject(schema)) return schema;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] = k === "$ref" && typeof v === "string" && v.startsWith("#/") ? `${SPEC_ID}${v}` : rebaseRefs(v);
  }
  return out;
}

function operation(l: Loaded, method: string, path: string): JsonObject | undefined {
  const paths = l.spec["paths"];
  if (!isObject(paths)) return undefined;
  const item = paths[path];
  if (!isObject(item)) return undefined;
  const op = item[method.toLowerCase()];
  return isObject(op) ? op : undefined;
}

/** Resolves `#/components/responses/x` at response level (one hop is all the file uses). */
function resolveResponse(l: Loaded, response: Json | undefined): JsonObject | undefined {
  if (!isObject(response)) return undefined;
  const ref = response["$ref"];
  if (typeof ref !== "string") return response;
  const name = ref.replace(/^#\/components\/responses\//, "");
  const components = l.spec["components"];
  const responses = isObject(components) ? components["responses"] : undefined;
  const target = isObject(responses) ? responses[name] : undefined;
  return resolveResponse(l, target);
}

/** The schema for `status`, whether GitHub documents the status at all, and its key. */
function responseSchema(
  l: Loaded,
  op: JsonObject,
  status: number,
): { documented: boolean; key: string | null; schema: Json | undefined } {
  const responses = op["responses"];
  if (!isObject(responses)) return { documented: false, key: null, schema: undefined };
  const key = String(status) in responses ? String(status) : "default" in responses ? "default" : null;
  if (key === null) return { documented: false, key: null, schema: undefined };
  const response = resolveResponse(l, responses[key]);
  const content = response?.["content"];
  if (!isObject(content)) return { documented: true, key, schema: undefined };
  const json =
    content["application/json"] ??
    Object.entries(content).find(([type]) => /json/.test(type))?.[1] ??
    undefined;
  const schema = isObject(json) ? json["schema"] : undefined;
  return { documented: true, key, schema };
}

function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
}

export function openApiValidator(): OpenApiValidator {
  const validate: OpenApiValidator["validate"] = (method, path, status, body) => {
    const l = load();
    const op = operation(l, method, path);
    if (!op) throw new Error(`OpenAPI: no operation ${method.toUpperCase()} ${path} in api.github.com.json`);
    const cacheKey = `${method.toLowerCase()} ${path} ${status}`;
    let fn = l.cache.get(cacheKey);
    const { documented, key, schema } = responseSchema(l, op, status);
    if (fn === undefined) {
      fn = schema === undefined ? null : l.ajv.compile(convertSchema(rebaseRefs(schema)) as object);
      l.cache.set(cacheKey, fn);
    }
    if (!documented) {
      return { valid: false, errors: [`status ${status} is not documented for ${method.toUpperCase()} ${path}`], schemaFor: null };
    }
    if (fn === null) {
      // An error status documented without content ("404: if user has no team membership"):
      // GitHub still sends its JSON error body, so hold it to `basic-error`.
      if (status >= 400) return { ...validateComponent("basic-error", body), schemaFor: key };
      // No JSON body documented (204, 304, 302): the body must be empty.
      const empty = body === undefined || body === null || body === "";
      return { valid: empty, errors: empty ? [] : ["a body where GitHub documents none"], schemaFor: key };
    }
    const valid = fn(body) as boolean;
    return { valid, errors: valid ? [] : formatErrors(fn.errors), schemaFor: key };
  };
  function validateComponent(name: string, body: unknown): ValidationResult {
    const l = load();
    const cacheKey = `component ${name}`;
    let fn = l.cache.get(cacheKey);
    if (fn === undefined || fn === null) {
      fn = l.ajv.getSchema(`${SPEC_ID}#/components/schemas/${name}`);
      if (!fn) throw new Error(`OpenAPI: no schema components.schemas.${name}`);
      l.cache.set(cacheKey, fn);
    }
    const valid = fn(body) as boolean;
    return { valid, errors: valid ? [] : formatErrors(fn.errors), schemaFor: name };
  }
  return {
    validate,
    validateComponent,
    assertValid(method, path, status, body) {
      const r = validate(method, path, status, body);
      if (!r.valid) {
        throw new Error(
          `response does not match GitHub's OpenAPI description for ${method.toUpperCase()} ${path} ${status}:\n  ${r.errors.slice(0, 20).join("\n  ")}`,
        );
      }
    },
    hasOperation(method, path) {
      return operation(load(), method, path) !== undefined;
    },
    documentsStatus(method, path, status) {
      const l = load();
      const op = operation(l, method, path);
      return op !== undefined && responseSchema(l, op, status).documented;
    },
  };
}
