/**
 * ajv errors → findings a person can act on: every one with file, line and
 * column, and a message that names what is allowed at that place (the keys,
 * the enum values, the type, a description of the pattern). ajv's cascades
 * (propertyNames wrappers, anyOf/oneOf branches) are folded into one finding.
 * No message quotes a configured value that could be an address in full.
 */
import { Ajv, type ErrorObject } from "ajv";
import addFormats from "ajv-formats";
import { finding, type Finding } from "../findings/finding.ts";
import type { RuleId } from "../findings/rules.ts";
import { maskAddressesIn, quoteForMessage } from "./safe-text.ts";
import { escapePointer, locate, pointerSegments, type YamlSource } from "./yaml-doc.ts";

/** One ajv instance per schema module: all errors, strict schemas, defaults applied to the validated copy. */
export function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, useDefaults: true });
  addFormats.default(ajv);
  return ajv;
}

/** Human descriptions of the `pattern`s a schema uses, keyed by the pattern source. */
export type PatternTexts = Readonly<Record<string, string>>;

const FORMAT_TEXT: Record<string, string> = {
  "date-time": "a date and time with a time zone, e.g. 2026-12-01T09:00:00+09:00 (RFC 3339)",
  date: "a date such as 2026-12-01",
  uri: "an absolute URL",
  email: "an e-mail address",
};

const TYPE_TEXT: Record<string, string> = {
  string: "text",
  number: "a number",
  integer: "a whole number",
  boolean: "true or false",
  object: "a mapping (key: value lines)",
  array: "a list",
  null: "empty",
};

/** `/approvals/stages/0/owners` → `approvals.stages[0].owners`; root → `the top level`. */
export function pathText(pointer: string): string {
  const segs = pointerSegments(pointer);
  if (segs.length === 0) return "the top level";
  let out = "";
  for (const s of segs) {
    if (/^(0|[1-9][0-9]*)$/.test(s)) out += `[${s}]`;
    else out += out ? `.${s}` : s;
  }
  return out;
}

function foundText(v: unknown): string {
  if (v === null || v === undefined) return "nothing (the value is empty)";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return "text";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return "a value that is not a finite number (.nan or .inf)";
    return Number.isInteger(v) ? "a whole number" : "a number";
  }
  if (typeof v === "boolean") return "true/false";
  return typeof v;
}

function typeList(t: unknown): string {
  const ts = Array.isArray(t) ? t : [t];
  return ts.map((x) => TYPE_TEXT[String(x)] ?? String(x)).join(" or ");
}

function literal(v: unknown): string {
  return typeof v === "string" ? quoteForMessage(v) : JSON.stringify(v);
}

/** Levenshtein distance, for "did you mean". Keys are short. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

function suggestion(key: string, allowed: string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of allowed) {
    const d = distance(key.toLowerCase(), k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(best.length / 3)) ? ` (did you mean "${best}"?)` : "";
}

interface Located {
  pointer: string;
  target: "node" | "key";
  message: string;
}

function isAjvError(e: ErrorObject): e is ErrorObject & { propertyName?: string } {
  return typeof e.instancePath === "string";
}

function describe(e: ErrorObject & { propertyName?: string }, patterns: PatternTexts): Located | null {
  const where = pathText(e.instancePath);
  const params = e.params as Record<string, unknown>;
  const ps = (e.parentSchema ?? {}) as Record<string, unknown>;

  // An invalid key of a map (propertyNames): ajv reports the inner keyword
  // with `propertyName` set, and a wrapper we skip.
  if (e.propertyName !== undefined) {
    const keyPointer = `${e.instancePath}/${escapePointer(e.propertyName)}`;
    const rule = e.keyword === "pattern" ? (patterns[String(params.pattern)] ?? `matching ${String(params.pattern)}`) : (e.message ?? "valid");
    return { pointer: keyPointer, target: "key", message: `key ${quoteForMessage(e.propertyName)} in ${where} is not valid: it must be ${rule}` };
  }

  switch (e.keyword) {
    case "propertyNames":
      return null;
    case "required": {
      const missing = String(params.missingProperty);
      const inWhere = e.instancePath === "" ? "at the top level" : `in ${where}`;
      return { pointer: e.instancePath, target: "node", message: `missing required key "${missing}" ${inWhere}` };
    }
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const props = ps.properties && typeof ps.properties === "object" ? Object.keys(ps.properties) : [];
      const inWhere = e.instancePath === "" ? "at the top level" : `in ${where}`;
      const allowed = props.length ? `allowed keys: ${props.join(", ")}` : "no keys are allowed here";
      return {
        pointer: `${e.instancePath}/${escapePointer(key)}`,
        target: "key",
        message: `unknown key ${quoteForMessage(key)} ${inWhere}${suggestion(key, props)}; ${allowed}`,
      };
    }
    case "type": {
      const quote = params.type === "string" && (typeof e.data === "number" || typeof e.data === "boolean") ? "; put it in quotes to make it text" : "";
      return { pointer: e.instancePath, target: "node", message: `${where} must be ${typeList(params.type)}, found ${foundText(e.data)}${quote}` };
    }
    case "enum": {
      const values = Array.isArray(params.allowedValues) ? params.allowedValues : [];
      return { pointer: e.instancePath, target: "node", message: `${where} must be one of: ${values.map(literal).join(", ")}` };
    }
    case "const":
      return { pointer: e.instancePath, target: "node", message: `${where} must be ${literal(params.allowedValue)}` };
    case "not": {
      const not = (e.schema ?? {}) as Record<string, unknown>;
      const what = "const" in not ? literal(not.const) : "that value";
      return { pointer: e.instancePath, target: "node", message: `${where} must not be ${what}` };
    }
    case "pattern": {
      const text = patterns[String(params.pattern)];
      return {
        pointer: e.instancePath,
        target: "node",
        message: text ? `${where} must be ${text}` : `${where} must match the pattern ${String(params.pattern)}`,
      };
    }
    case "format": {
      const f = String(params.format);
      return { pointer: e.instancePath, target: "node", message: `${where} must be ${FORMAT_TEXT[f] ?? `a valid ${f}`}` };
    }
    case "minLength": {
      const limit = Number(params.limit);
      if (limit === 1) return { pointer: e.instancePath, target: "node", message: `${where} must not be empty` };
      return { pointer: e.instancePath, target: "node", message: `${where} must be at least ${limit} characters long` };
    }
    case "maxLength": {
      const len = typeof e.data === "string" ? [...e.data].length : undefined;
      const has = len === undefined ? "" : ` (it has ${len})`;
      return { pointer: e.instancePath, target: "node", message: `${where} must be at most ${String(params.limit)} characters long${has}` };
    }
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum": {
      const cmp = { minimum: "at least", maximum: "at most", exclusiveMinimum: "more than", exclusiveMaximum: "less than" }[e.keyword];
      const found = typeof e.data === "number" ? ` (found ${e.data})` : "";
      return { pointer: e.instancePath, target: "node", message: `${where} must be ${cmp} ${String(params.limit)}${found}` };
    }
    case "multipleOf":
      return { pointer: e.instancePath, target: "node", message: `${where} must be a multiple of ${String(params.multipleOf)}` };
    case "minItems":
    case "maxItems": {
      const cmp = e.keyword === "minItems" ? "at least" : "at most";
      const n = Array.isArray(e.data) ? ` (found ${e.data.length})` : "";
      return { pointer: e.instancePath, target: "node", message: `${where} must list ${cmp} ${String(params.limit)} items${n}` };
    }
    case "uniqueItems":
      return {
        pointer: `${e.instancePath}/${String(params.i)}`,
        target: "node",
        message: `${where} lists the same value twice (items ${String(params.j)} and ${String(params.i)}, counting from 0)`,
      };
    case "minProperties":
      return { pointer: e.instancePath, target: "node", message: `${where} must have at least ${String(params.limit)} keys` };
    case "anyOf":
    case "oneOf":
      return { pointer: e.instancePath, target: "node", message: `${where} does not match any of the allowed forms` };
    default:
      return { pointer: e.instancePath, target: "node", message: `${where} ${e.message ?? "is not valid"}` };
  }
}

/**
 * Turn ajv's errors into findings of `rule` (default `schema`), located in
 * `src`. Errors inside an `anyOf`/`oneOf` branch are folded into the single
 * "does not match any of the allowed forms" finding of that keyword.
 */
export function schemaFindings(
  errors: readonly ErrorObject[] | null | undefined,
  src: YamlSource,
  patterns: PatternTexts,
  rule: RuleId = "schema",
): Finding[] {
  const all = (errors ?? []).filter(isAjvError);
  const branches = all.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf").map((e) => `${e.schemaPath}/`);
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const e of all) {
    if (branches.some((b) => e.schemaPath.startsWith(b))) continue;
    const d = describe(e, patterns);
    if (!d) continue;
    const dedupe = `${d.pointer}\u0000${d.message}`;
    if (seen.has(dedupe)) continue;
    seen.add(dedupe);
    const p = locate(src, d.pointer, d.target);
    out.push(finding(rule, src.file, p, maskAddressesIn(d.message)));
  }
  return out;
}

/** A `schema` finding at the value (or key) named by `pointer`, for checks JSON Schema cannot express. */
export function schemaFindingAt(src: YamlSource, pointer: string, message: string, target: "node" | "key" = "node"): Finding {
  return finding("schema", src.file, locate(src, pointer, target), maskAddressesIn(message));
}
