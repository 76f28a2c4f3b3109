/**
 * `recipients/<name>.yml`: a recipient list by reference (docs/design.md,
 * "Recipient data and suppressions"). The file names where the list's bytes
 * are and pins them:
 *
 *   source: s3://corp-newsletter-lists/customers/customers-1f2e….csv
 *   sha256: 1f2e…        # sha256 of the bytes exactly as stored (what `sha256sum` prints)
 *   rows: 13011          # data rows after the header
 *
 * A pull request that changes a list is then a diff of a hash and a count,
 * and the addresses stay out of git. Pure: the caller reads the text.
 */
import { hasErrors, type Finding } from "../findings/finding.ts";
import { createAjv, schemaFindings } from "./schema-findings.ts";
import { parseYaml } from "./yaml-doc.ts";

export interface ListRef {
  source: string;
  sha256: string;
  rows: number;
}

const SHA256 = "^[0-9a-f]{64}$";
/**
 * `s3://bucket/key`, or a relative path without control characters. Not an
 * absolute path: a reference in a pull request is data, and must not name
 * just any file of the machine that checks it.
 */
const SOURCE = "^(?:s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^\\u0000-\\u001f\\u007f]+|(?![/~])[^\\u0000-\\u001f\\u007f:]+)$";

const listRefSchema = {
  type: "object",
  additionalProperties: false,
  required: ["source", "sha256", "rows"],
  properties: {
    source: { type: "string", minLength: 1, maxLength: 1024, pattern: SOURCE },
    sha256: { type: "string", pattern: SHA256 },
    rows: { type: "integer", minimum: 0 },
  },
} as const;

const PATTERN_TEXT = {
  [SHA256]: "the 64 lowercase hex digits of the list's sha256 (as `newsletter pin` writes them)",
  [SOURCE]: "s3://bucket/key, or a relative path from the repository root (e.g. ../lists/customers.csv)",
};

let validator: ReturnType<typeof compile> | undefined;
function compile() {
  return createAjv().compile<ListRef>(listRefSchema);
}

export function parseListRef(text: string, file: string): { ref: ListRef | null; findings: Finding[] } {
  const { source, data, findings } = parseYaml(text, file);
  if (data === null) return { ref: null, findings };
  const validate = (validator ??= compile());
  const copy: unknown = structuredClone(data);
  const ok = validate(copy);
  findings.push(...schemaFindings(validate.errors, source, PATTERN_TEXT));
  return { ref: ok && !hasErrors(findings) ? (copy as ListRef) : null, findings };
}

/** The text `newsletter pin` writes. */
export function formatListRef(ref: ListRef): string {
  return [
    "# A recipient list by reference: its bytes are outside git (newsletter pin).",
    `source: ${JSON.stringify(ref.source)}`,
    `sha256: ${ref.sha256}`,
    `rows: ${ref.rows}`,
    "",
  ].join("\n");
}
