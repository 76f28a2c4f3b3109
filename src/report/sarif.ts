/**
 * `check --format sarif`: SARIF 2.1.0 for GitHub code scanning
 * (`github/codeql-action/upload-sarif`, or the `code-scanning/sarifs` API).
 *
 * What GitHub reads, and what this emits:
 * - `$schema`, `version: "2.1.0"`, exactly one run;
 * - `tool.driver`: name, version (and semanticVersion), informationUri when
 *   known, and the whole rule catalogue (stable `ruleIndex` across runs) with
 *   id, name, short/full description, help, default level and tags;
 * - each result: ruleId, ruleIndex, level, message.text, one physical location
 *   (repository-relative URI with `/`, `uriBaseId: "%SRCROOT%"`, region
 *   startLine/startColumn, both at least 1) and `partialFingerprints`.
 *
 * Never emitted: `snippet`, `contextRegion`, or any other copy of the source:
 * a snippet of a body or a list could hold an address in full.
 *
 * Fingerprints. GitHub matches alerts across runs by `partialFingerprints`.
 * `primaryLocationLineHash` is left to upload-sarif, which computes it from
 * the checked-out file and warns when a tool-supplied value differs. Ours is
 * `newsletterFinding/v1`: sha256 over rule, file, a sha256 of the (masked)
 * message, and the ordinal of that (rule, file, message) in the file. The
 * line number is deliberately not part of it: a newsletter body is edited
 * throughout review, and a paragraph added above a finding must not close
 * the alert and open a new one. The ordinal keeps two identical findings in
 * one file apart.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type * as Sarif from "sarif";
import type { Severity } from "../findings/finding.ts";
import type { CheckReport } from "../findings/report.ts";
import { RULE_IDS } from "../findings/rules.ts";
import { orderedFindings, position, ruleInfo, safeText } from "./common.ts";

export const SARIF_SCHEMA =
  "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
export const TOOL_NAME = "newsletter-check";
export const FINGERPRINT_KEY = "newsletterFinding/v1";
export const SRCROOT = "%SRCROOT%";

export interface SarifOptions {
  /** The tool's version (package.json `version`). */
  toolVersion: string;
  /**
   * The repository root. Used to make absolute finding paths relative, and
   * recorded as `originalUriBaseIds["%SRCROOT%"]`. Without it the output holds
   * no machine-specific path.
   */
  repoRoot?: string;
  /** Where the tool is documented, e.g. `https://github.com/OWNER/REPO`; omitted when unknown. */
  informationUri?: string;
}

const LEVEL: Record<Severity, Sarif.ReportingConfiguration.level> = {
  error: "error",
  warning: "warning",
  note: "note",
};

export function buildSarif(report: CheckReport, options: SarifOptions): Sarif.Log {
  const findings = orderedFindings(report.findings);

  // The whole catalogue, in catalogue order, so ruleIndex is stable across
  // runs; a rule id the catalogue does not know is appended after it.
  const ruleIds: string[] = [...RULE_IDS];
  for (const f of findings) if (!ruleIds.includes(f.rule)) ruleIds.push(f.rule);
  const rules = ruleIds.map(ruleDescriptor);

  const seen = new Map<string, number>();
  const results: Sarif.Result[] = findings.map((f) => {
    const file = relativeUri(f.file, options.repoRoot);
    const message = safeText(f.message) || ruleInfo(f.rule).title;
    const messageHash = sha256(message);
    const key = `${f.rule}\u0000${file}\u0000${messageHash}`;
    const ordinal = (seen.get(key) ?? 0) + 1;
    seen.set(key, ordinal);

    const result: Sarif.Result = {
      ruleId: f.rule,
      ruleIndex: ruleIds.indexOf(f.rule),
      level: LEVEL[f.severity] ?? "warning",
      message: { text: message },
    };
    // A repository-wide finding (no file) has no location: SARIF allows it,
    // but GitHub code scanning may not show such a result.
    if (file !== "") {
      result.locations = [
        {
          physicalLocation: {
            artifactLocation: { uri: file, uriBaseId: SRCROOT },
            region: { startLine: position(f.line), startColumn: position(f.column) },
          },
        },
      ];
    }
    result.partialFingerprints = { [FINGERPRINT_KEY]: sha256(`${key}\u0000${ordinal}`) };
    return result;
  });

  const driver: Sarif.ToolComponent = {
    name: TOOL_NAME,
    version: options.toolVersion,
    semanticVersion: options.toolVersion,
    rules,
  };
  if (options.informationUri) driver.informationUri = options.informationUri;

  const run: Sarif.Run = { tool: { driver }, results };
  if (options.repoRoot !== undefined) {
    const root = pathToFileURL(path.resolve(options.repoRoot)).href;
    run.originalUriBaseIds = { [SRCROOT]: { uri: root.endsWith("/") ? root : `${root}/` } };
  }
  return { $schema: SARIF_SCHEMA, version: "2.1.0", runs: [run] };
}

/** The SARIF log as JSON text (two-space indented, final newline). */
export function formatSarif(report: CheckReport, options: SarifOptions): string {
  return JSON.stringify(buildSarif(report, options), null, 2) + "\n";
}

function ruleDescriptor(id: string): Sarif.ReportingDescriptor {
  const info = ruleInfo(id);
  return {
    id,
    name: pascalCase(id),
    shortDescription: { text: info.title },
    fullDescription: { text: `${info.title}. ${info.help}` },
    help: { text: info.help, markdown: info.help },
    defaultConfiguration: { level: LEVEL[info.severity] },
    properties: { tags: tagsFor(id) },
  };
}

/** `leak-list-address` → `LeakListAddress`. */
function pascalCase(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
}

function tagsFor(id: string): string[] {
  const tags = ["newsletter"];
  if (id.startsWith("leak-") || id === "list-address-in-field") tags.push("privacy");
  if (id.startsWith("list-") || id === "suppression-applied") tags.push("recipients");
  else if (["input-missing", "input-encoding", "yaml-syntax", "schema", "newsletter-id", "unexpected-file"].includes(id))
    tags.push("configuration");
  else tags.push("content");
  return tags;
}

/**
 * A repository-relative URI reference with `/` separators, each segment
 * percent-encoded (SARIF §3.10.2: `uri` is a URI reference). Absolute paths
 * are made relative to `repoRoot` when one is given.
 */
export function relativeUri(file: string, repoRoot?: string): string {
  let p = safeText(file).replace(/\\/g, "/");
  if (repoRoot !== undefined && path.isAbsolute(file)) {
    p = path.relative(path.resolve(repoRoot), file).split(path.sep).join("/");
  }
  p = p.replace(/^(\.\/)+/, "").replace(/^\/+/, "");
  return p
    .split("/")
    .filter((s) => s !== "")
    .map((s) => encodeURIComponent(s))
    .join("/");
}

function sha256(s: string): string {
  return createHash("sha256").update(s, "utf8").digest("hex");
}
