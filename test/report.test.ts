import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type * as Sarif from "sarif";
import { mask } from "../src/address/mask.ts";
import type { Finding } from "../src/findings/finding.ts";
import type { CheckReport } from "../src/findings/report.ts";
import { RULE_IDS } from "../src/findings/rules.ts";
import { emitGithub, githubSummary, type AnnotationLevel, type AnnotationProps, type GithubSink } from "../src/report/github.ts";
import { githubActionsSink } from "../src/report/github-actions-sink.ts";
import { FORMATS, informationUriFromEnv, isFormat, renderReport } from "../src/report/index.ts";
import { formatJson, toJsonReport } from "../src/report/json.ts";
import { buildSarif, FINGERPRINT_KEY, formatSarif, relativeUri } from "../src/report/sarif.ts";
import { formatText } from "../src/report/text.ts";

const BODY = "newsletters/2026-12-01-winter/body.md";
const YML = "newsletters/2026-12-01-winter/newsletter.yml";
const LIST = "recipients/customers.csv";

const MASKED = mask("taro@example.com"); // t***@e***.com

/** Deliberately unsorted, across three files, all three severities. */
function sampleReport(): CheckReport {
  const findings: Finding[] = [
    { rule: "leak-list-address", severity: "error", file: BODY, line: 12, column: 7, message: `Recipient-list address ${MASKED} in the body` },
    { rule: "suppression-applied", severity: "note", file: LIST, line: 1, column: 1, message: "3 recipients are suppressed" },
    { rule: "yaml-syntax", severity: "error", file: YML, line: 2, column: 10, message: "Unexpected ':' | bad mapping" },
    { rule: "link-insecure", severity: "warning", file: BODY, line: 4, column: 3, message: "Link http://www.example.com/a is not https" },
    { rule: "addresses-counted", severity: "note", file: BODY, line: 1, column: 1, message: "2 distinct addresses in the content" },
  ];
  return {
    ok: false,
    findings,
    newsletters: [
      {
        dir: "newsletters/2026-12-01-winter",
        id: "2026-12-01-winter",
        subject: "Winter update",
        list: "customers",
        recipients: 1013,
        suppressed: 3,
        contentAddresses: 2,
      },
    ],
  };
}

function cleanReport(): CheckReport {
  return {
    ok: true,
    findings: [],
    newsletters: [{ dir: "newsletters/2026-12-01-winter", id: "2026-12-01-winter", list: "customers", recipients: 10, suppressed: 0, contentAddresses: 1 }],
  };
}

/** An address that is not masked: a local part and a domain of ordinary characters. */
const FULL_ADDRESS = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+/;

// ---------------------------------------------------------------------------
// text

describe("text format", () => {
  it("groups by file, prints file:line:column severity rule message, newsletter summary, and the final line", () => {
    const out = formatText(sampleReport(), { color: false });
    const lines = out.trimEnd().split("\n");
    expect(out).not.toContain("\u001b[");
    // files in order, each a header
    const headers = lines.filter((l) => !l.startsWith(" ") && l.includes("/") && !l.includes("  "));
    expect(headers).toEqual([BODY, YML, LIST]);
    expect(out).toContain(`  ${BODY}:1:1  note     addresses-counted  2 distinct addresses in the content`);
    expect(out).toContain(`  ${BODY}:4:3  warning  link-insecure  Link http://www.example.com/a is not https`);
    expect(out).toContain(`  ${BODY}:12:7  error    leak-list-address  Recipient-list address ${MASKED} in the body`);
    expect(out).toContain(`  ${YML}:2:10  error    yaml-syntax  Unexpected ':' | bad mapping`);
    // within a file: line order
    expect(out.indexOf(`${BODY}:1:1`)).toBeLessThan(out.indexOf(`${BODY}:4:3`));
    expect(out.indexOf(`${BODY}:4:3`)).toBeLessThan(out.indexOf(`${BODY}:12:7`));
    expect(out).toContain("2026-12-01-winter  list customers, 1013 recipients, 3 suppressed, 2 distinct content addresses");
    expect(lines.at(-1)).toBe("2 errors, 1 warning");
  });

  it("says OK when clean and colours only when asked", () => {
    const plain = formatText(cleanReport(), { color: false });
    expect(plain.trimEnd().split("\n").at(-1)).toBe("OK");
    const coloured = formatText(sampleReport(), { color: true });
    expect(coloured).toContain("\u001b[31merror  \u001b[0m");
    expect(coloured).toContain("\u001b[33mwarning\u001b[0m");
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, "")).toBe(formatText(sampleReport(), { color: false }));
  });

  it("keeps one finding on one line and shows control characters instead of sending them to the terminal", () => {
    const r: CheckReport = {
      ok: false,
      findings: [{ rule: "test-marker", severity: "error", file: BODY, line: 0, column: -3, message: "a\nb\u001b[2Jc\u202e" }],
      newsletters: [],
    };
    const out = formatText(r, { color: false });
    expect(out).toContain(`${BODY}:1:1  error    test-marker  a\\nb\\u{1b}[2Jc\\u{202e}`);
    expect(out).not.toContain("\u001b");
    expect(out.trimEnd().split("\n").at(-1)).toBe("1 error, 0 warnings");
  });
});

// ---------------------------------------------------------------------------
// json

describe("json format", () => {
  it("is exactly the documented JSON shape plus newsletters, in a stable key order", () => {
    const text = formatJson(sampleReport());
    expect(text.endsWith("\n")).toBe(true);
    const parsed = JSON.parse(text);
    expect(parsed).toStrictEqual({
      ok: false,
      findings: [
        { rule: "addresses-counted", severity: "note", file: BODY, line: 1, column: 1, message: "2 distinct addresses in the content" },
        { rule: "link-insecure", severity: "warning", file: BODY, line: 4, column: 3, message: "Link http://www.example.com/a is not https" },
        { rule: "leak-list-address", severity: "error", file: BODY, line: 12, column: 7, message: `Recipient-list address ${MASKED} in the body` },
        { rule: "yaml-syntax", severity: "error", file: YML, line: 2, column: 10, message: "Unexpected ':' | bad mapping" },
        { rule: "suppression-applied", severity: "note", file: LIST, line: 1, column: 1, message: "3 recipients are suppressed" },
      ],
      newsletters: [
        { dir: "newsletters/2026-12-01-winter", id: "2026-12-01-winter", list: "customers", recipients: 1013, suppressed: 3, content_addresses: 2 },
      ],
    });
    expect(Object.keys(parsed)).toEqual(["ok", "findings", "newsletters"]);
    for (const f of parsed.findings) expect(Object.keys(f)).toEqual(["rule", "severity", "file", "line", "column", "message"]);
    expect(Object.keys(parsed.newsletters[0])).toEqual(["dir", "id", "list", "recipients", "suppressed", "content_addresses"]);
    // the subject is content: not printed
    expect(text).not.toContain("Winter update");
  });

  it("is deterministic and does not reorder the caller's findings", () => {
    const r = sampleReport();
    const before = r.findings.map((f) => f.rule);
    expect(formatJson(r)).toBe(formatJson(sampleReport()));
    expect(r.findings.map((f) => f.rule)).toEqual(before);
    expect(toJsonReport(cleanReport())).toEqual({
      ok: true,
      findings: [],
      newsletters: [{ dir: "newsletters/2026-12-01-winter", id: "2026-12-01-winter", list: "customers", recipients: 10, suppressed: 0, content_addresses: 1 }],
    });
  });

  it("uses null for summary values the check could not determine", () => {
    const r: CheckReport = { ok: false, findings: [], newsletters: [{ dir: "newsletters/x", id: "x" }] };
    expect(toJsonReport(r).newsletters).toEqual([
      { dir: "newsletters/x", id: "x", list: null, recipients: null, suppressed: null, content_addresses: null },
    ]);
  });
});

// ---------------------------------------------------------------------------
// sarif

/**
 * A structural check of what SARIF 2.1.0 (OASIS, errata 01) requires of the
 * objects we emit, and of GitHub code scanning's documented expectations.
 * No schema file is available offline, so the required properties, types,
 * enumerations and the known property names per object are checked by hand.
 */
function sarifProblems(log: unknown): string[] {
  const problems: string[] = [];
  const bad = (where: string, what: string): void => void problems.push(`${where}: ${what}`);
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  const onlyKeys = (where: string, o: Record<string, unknown>, allowed: string[]): void => {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) bad(where, `unexpected property ${k}`);
  };
  const message = (where: string, m: unknown): void => {
    if (!isObj(m)) return bad(where, "not an object");
    if (typeof m.text !== "string" || m.text === "") bad(where, "text must be a non-empty string");
    onlyKeys(where, m, ["text", "markdown", "id", "arguments", "properties"]);
  };
  const posInt = (where: string, v: unknown): void => {
    if (!Number.isInteger(v) || (v as number) < 1) bad(where, `must be an integer >= 1, is ${String(v)}`);
  };
  const LEVELS = ["none", "note", "warning", "error"];

  if (!isObj(log)) return ["log: not an object"];
  if (log.version !== "2.1.0") bad("log.version", "must be 2.1.0");
  if (typeof log.$schema !== "string" || !/^https:\/\/.+sarif.*2\.1\.0.*\.json$/.test(log.$schema)) bad("log.$schema", "must name the 2.1.0 schema");
  onlyKeys("log", log, ["$schema", "version", "runs", "inlineExternalProperties", "properties"]);
  if (!Array.isArray(log.runs) || log.runs.length !== 1) return [...problems, "log.runs: GitHub wants exactly one run here"];

  const run = log.runs[0];
  if (!isObj(run)) return [...problems, "run: not an object"];
  onlyKeys("run", run, ["tool", "results", "originalUriBaseIds", "invocations", "automationDetails", "columnKind", "properties"]);
  const driver = isObj(run.tool) ? run.tool.driver : undefined;
  if (!isObj(driver)) return [...problems, "run.tool.driver: required"];
  if (typeof driver.name !== "string" || !driver.name) bad("driver.name", "required string");
  if (typeof driver.version !== "string" || !driver.version) bad("driver.version", "expected string");
  if (driver.informationUri !== undefined && (typeof driver.informationUri !== "string" || !URL.canParse(driver.informationUri)))
    bad("driver.informationUri", "must be an absolute URI");
  onlyKeys("driver", driver, ["name", "version", "semanticVersion", "informationUri", "rules", "organization", "fullName", "properties"]);
  const rules = Array.isArray(driver.rules) ? driver.rules : [];
  const ids = new Set<string>();
  rules.forEach((r: unknown, i: number) => {
    const w = `rules[${i}]`;
    if (!isObj(r)) return bad(w, "not an object");
    if (typeof r.id !== "string" || !r.id) bad(w, "id required");
    else if (ids.has(r.id)) bad(w, `duplicate id ${r.id}`);
    else ids.add(r.id);
    if (typeof r.name !== "string" || !/^[A-Za-z0-9]+$/.test(r.name)) bad(w, "name should be an identifier");
    message(`${w}.shortDescription`, r.shortDescription);
    message(`${w}.fullDescription`, r.fullDescription);
    message(`${w}.help`, r.help);
    const dc = r.defaultConfiguration;
    if (!isObj(dc) || !LEVELS.includes(dc.level as string)) bad(`${w}.defaultConfiguration.level`, "must be a level");
    const tags = isObj(r.properties) ? r.properties.tags : undefined;
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === "string") || tags.length > 20) bad(`${w}.properties.tags`, "string array (<= 20)");
    onlyKeys(w, r, ["id", "name", "shortDescription", "fullDescription", "help", "helpUri", "defaultConfiguration", "properties"]);
  });

  if (!Array.isArray(run.results)) return [...problems, "run.results: required array"];
  run.results.forEach((res: unknown, i: number) => {
    const w = `results[${i}]`;
    if (!isObj(res)) return bad(w, "not an object");
    onlyKeys(w, res, ["ruleId", "ruleIndex", "level", "message", "locations", "partialFingerprints", "properties"]);
    if (typeof res.ruleId !== "string") bad(w, "ruleId required");
    if (!Number.isInteger(res.ruleIndex) || (res.ruleIndex as number) < 0 || (res.ruleIndex as number) >= rules.length) bad(w, "ruleIndex out of range");
    else if ((rules[res.ruleIndex as number] as { id?: unknown }).id !== res.ruleId) bad(w, "ruleIndex does not point at ruleId");
    if (!LEVELS.includes(res.level as string)) bad(w, `level ${String(res.level)}`);
    message(`${w}.message`, res.message);
    const fp = res.partialFingerprints;
    if (!isObj(fp) || Object.keys(fp).length === 0 || !Object.values(fp).every((v) => typeof v === "string" && v.length > 0))
      bad(`${w}.partialFingerprints`, "non-empty string map required");
    if (isObj(fp) && "primaryLocationLineHash" in fp) bad(`${w}.partialFingerprints`, "primaryLocationLineHash is upload-sarif's to compute");
    if (!Array.isArray(res.locations) || res.locations.length !== 1) return bad(w, "exactly one location expected");
    const loc = res.locations[0];
    const pl = isObj(loc) ? loc.physicalLocation : undefined;
    if (!isObj(loc) || !isObj(pl)) return bad(`${w}.locations[0]`, "physicalLocation required");
    onlyKeys(`${w}.locations[0]`, loc, ["physicalLocation"]);
    onlyKeys(`${w}.physicalLocation`, pl, ["artifactLocation", "region"]);
    const al = pl.artifactLocation;
    if (!isObj(al) || typeof al.uri !== "string") return bad(`${w}.artifactLocation.uri`, "required");
    if (/^[a-z][a-z0-9+.-]*:/i.test(al.uri) || al.uri.startsWith("/") || al.uri.includes("\\") || /(^|\/)\.\.?(\/|$)/.test(al.uri))
      bad(`${w}.artifactLocation.uri`, `must be relative with forward slashes: ${al.uri}`);
    if (al.uriBaseId !== "%SRCROOT%") bad(`${w}.artifactLocation.uriBaseId`, "must be %SRCROOT%");
    const reg = pl.region;
    if (!isObj(reg)) return bad(`${w}.region`, "required");
    onlyKeys(`${w}.region`, reg, ["startLine", "startColumn", "endLine", "endColumn"]);
    posInt(`${w}.region.startLine`, reg.startLine);
    posInt(`${w}.region.startColumn`, reg.startColumn);
  });

  // Nowhere any copy of source text.
  const walk = (v: unknown, where: string): void => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${where}[${i}]`));
    else if (isObj(v))
      for (const [k, x] of Object.entries(v)) {
        if (k === "snippet" || k === "contextRegion") bad(where, `${k} must not be emitted`);
        walk(x, `${where}.${k}`);
      }
  };
  walk(log, "log");
  return problems;
}

describe("sarif format", () => {
  const opts = { toolVersion: "0.1.0", informationUri: "https://github.com/octo-org/newsletters" };

  it("has GitHub's required fields and passes the structural check", () => {
    const log = JSON.parse(formatSarif(sampleReport(), opts)) as Sarif.Log;
    expect(sarifProblems(log)).toEqual([]);
    const run = log.runs[0]!;
    expect(run.tool.driver).toMatchObject({ name: "newsletter-check", version: "0.1.0", informationUri: opts.informationUri });
    expect(run.tool.driver.rules!.map((r) => r.id)).toEqual(RULE_IDS);
    const leak = run.tool.driver.rules!.find((r) => r.id === "leak-list-address")!;
    expect(leak).toMatchObject({
      name: "LeakListAddress",
      shortDescription: { text: "A recipient-list address is in the content" },
      defaultConfiguration: { level: "error" },
      properties: { tags: ["newsletter", "privacy", "content"] },
    });
    expect(leak.help!.text).toContain("customer's address");

    expect(run.results).toHaveLength(5);
    const r = run.results!.find((x) => x.ruleId === "leak-list-address")!;
    expect(r).toMatchObject({
      level: "error",
      message: { text: `Recipient-list address ${MASKED} in the body` },
      locations: [
        { physicalLocation: { artifactLocation: { uri: BODY, uriBaseId: "%SRCROOT%" }, region: { startLine: 12, startColumn: 7 } } },
      ],
    });
    expect(run.tool.driver.rules![r.ruleIndex!]!.id).toBe("leak-list-address");
    expect(run.results!.map((x) => x.level)).toEqual(["note", "warning", "error", "error", "note"]);
    expect(run.originalUriBaseIds).toBeUndefined();
  });

  it("the structural check catches what GitHub would reject", () => {
    const log = buildSarif(sampleReport(), opts);
    const res = log.runs[0]!.results![0]!;
    (res.locations![0]!.physicalLocation!.region as Record<string, unknown>).snippet = { text: "x" };
    res.locations![0]!.physicalLocation!.artifactLocation!.uri = "/abs/path";
    res.ruleIndex = 999;
    res.partialFingerprints = { primaryLocationLineHash: "1:1" };
    const problems = sarifProblems(JSON.parse(JSON.stringify(log)));
    expect(problems.join("\n")).toMatch(/snippet/);
    expect(problems.join("\n")).toMatch(/relative/);
    expect(problems.join("\n")).toMatch(/ruleIndex/);
    expect(problems.join("\n")).toMatch(/primaryLocationLineHash/);
  });

  it("clamps positions to 1, makes paths relative with forward slashes, records %SRCROOT% when given a root", () => {
    const root = path.join(tmpdir(), "repo");
    const r: CheckReport = {
      ok: false,
      findings: [
        { rule: "body-size", severity: "error", file: path.join(root, "newsletters", "2026-12-01-a", "body.md"), line: 0, column: 0, message: "too big" },
        { rule: "list-csv", severity: "error", file: "recipients\\two words.csv", line: -4, column: Number.NaN, message: "bad quote" },
      ],
      newsletters: [],
    };
    const log = buildSarif(r, { toolVersion: "0.1.0", repoRoot: root });
    expect(sarifProblems(JSON.parse(JSON.stringify(log)))).toEqual([]);
    const locs = log.runs[0]!.results!.map((x) => x.locations![0]!.physicalLocation!);
    expect(locs.map((l) => l.artifactLocation!.uri)).toEqual(["newsletters/2026-12-01-a/body.md", "recipients/two%20words.csv"]);
    for (const l of locs) expect(l.region).toEqual({ startLine: 1, startColumn: 1 });
    expect(log.runs[0]!.originalUriBaseIds!["%SRCROOT%"]!.uri).toMatch(/^file:\/\/.*\/repo\/$/);
    expect(log.runs[0]!.tool.driver.informationUri).toBeUndefined();
    expect(relativeUri("./newsletters/x/body.md")).toBe("newsletters/x/body.md");
  });

  it("fingerprints track a finding across runs: not by line, by rule, file and message; identical findings stay apart", () => {
    const fp = (rep: CheckReport): string[] => buildSarif(rep, opts).runs[0]!.results!.map((x) => x.partialFingerprints![FINGERPRINT_KEY]!);
    const a = sampleReport();
    const shifted = sampleReport();
    for (const f of shifted.findings) if (f.file === BODY) f.line += 3; // a paragraph added above
    expect(fp(shifted)).toEqual(fp(a));
    expect(new Set(fp(a)).size).toBe(5);
    for (const h of fp(a)) expect(h).toMatch(/^[0-9a-f]{64}$/);

    const changed = sampleReport();
    changed.findings[0]!.message = `Recipient-list address ${mask("jiro@example.org")} in the subject`;
    expect(fp(changed)).not.toEqual(fp(a));

    const twice: CheckReport = {
      ok: false,
      findings: [
        { rule: "leak-unknown-address", severity: "error", file: BODY, line: 3, column: 1, message: `Address ${MASKED} is outside the allowlist` },
        { rule: "leak-unknown-address", severity: "error", file: BODY, line: 9, column: 1, message: `Address ${MASKED} is outside the allowlist` },
      ],
      newsletters: [],
    };
    const [p, q] = fp(twice);
    expect(p).not.toBe(q);
  });
});

// ---------------------------------------------------------------------------
// github

interface Annotation {
  level: AnnotationLevel;
  message: string;
  props: AnnotationProps;
}

/** A hand-made fake with plain fields. */
class FakeSink implements GithubSink {
  annotations: Annotation[] = [];
  summaries: string[] = [];
  annotate(level: AnnotationLevel, message: string, props: AnnotationProps): void {
    this.annotations.push({ level, message, props });
  }
  async summary(markdown: string): Promise<void> {
    this.summaries.push(markdown);
  }
}

describe("github format (fake sink)", () => {
  it("annotates errors first, then warnings, then notices, with location and rule title", async () => {
    const sink = new FakeSink();
    const res = await emitGithub(sampleReport(), sink);
    // addresses-counted is in the summary's table only: no notice pinned to line 1 on every run.
    expect(res).toEqual({ annotated: 4, notAnnotated: 0 });
    expect(sink.annotations.map((a) => a.level)).toEqual(["error", "error", "warning", "notice"]);
    expect(sink.annotations.map((a) => a.props.title)).not.toContain(expect.stringMatching(/^addresses-counted/));
    expect(sink.annotations[0]).toEqual({
      level: "error",
      message: `Recipient-list address ${MASKED} in the body`,
      props: { file: BODY, startLine: 12, startColumn: 7, title: "leak-list-address: A recipient-list address is in the content" },
    });
    expect(sink.summaries).toHaveLength(1);
    const md = sink.summaries[0]!;
    expect(md).toMatch(/^## ❌ Newsletter check: 2 errors, 1 warning$/m);
    expect(md).toContain("| Newsletter | List | Recipients | Suppressed | Content addresses |");
    expect(md).toContain("| `2026-12-01-winter` | `customers` | 1013 | 3 | 2 |");
    expect(md).toContain("| Location | Rule | Severity | Message |");
    // `|` in a message must not split the cell; markdown punctuation is inert
    expect(md).toContain(`| \`${YML}:2:10\` | \`yaml-syntax\` | error | Unexpected \\'\\:\\' \\| bad mapping |`);
    expect(md).toContain("t\\*\\*\\*\\@e\\*\\*\\*\\.com");
    for (const row of md.split("\n").filter((l) => l.startsWith("| `newsletters") || l.startsWith("| `recipients"))) {
      expect(row.replace(/\\\|/g, "").split("|")).toHaveLength(6);
    }
  });

  it("stops at 10 annotations per level and keeps every finding in the summary", async () => {
    const many: Finding[] = [];
    for (let i = 1; i <= 13; i++) many.push({ rule: "test-marker", severity: "error", file: BODY, line: i, column: 1, message: `TODO marker ${i}` });
    for (let i = 1; i <= 12; i++) many.push({ rule: "link-staging", severity: "warning", file: YML, line: i, column: 1, message: `staging link ${i}` });
    for (let i = 1; i <= 11; i++) many.push({ rule: "suppression-applied", severity: "note", file: LIST, line: i, column: 1, message: `note ${i}` });
    const sink = new FakeSink();
    const res = await emitGithub({ ok: false, findings: many.reverse(), newsletters: [] }, sink);
    expect(res).toEqual({ annotated: 30, notAnnotated: 6 });
    const levels = sink.annotations.map((a) => a.level);
    expect(levels).toEqual([...Array(10).fill("error"), ...Array(10).fill("warning"), ...Array(10).fill("notice")]);
    expect(sink.annotations.slice(0, 10).map((a) => a.props.startLine)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const md = sink.summaries[0]!;
    expect(md).toContain("6 findings appear only in this table");
    for (let i = 1; i <= 13; i++) expect(md).toContain(`TODO marker ${i} |`);
  });

  it("cuts the summary table to its size budget and says so", () => {
    const findings: Finding[] = Array.from({ length: 50 }, (_, i) => ({
      rule: "test-marker" as const,
      severity: "error" as const,
      file: BODY,
      line: i + 1,
      column: 1,
      message: "x".repeat(100),
    }));
    const md = githubSummary({ ok: false, findings, newsletters: [] }, 0, 2000);
    expect(md).toMatch(/\d+ more findings not shown/);
    expect(new TextEncoder().encode(md).length).toBeLessThan(2500);
  });

  it("reports a clean run", async () => {
    const sink = new FakeSink();
    await emitGithub(cleanReport(), sink);
    expect(sink.annotations).toEqual([]);
    expect(sink.summaries[0]).toMatch(/^## ✅ Newsletter check: OK$/m);
    expect(sink.summaries[0]).toContain("No findings.");
  });
});

describe("github format through @actions/core", () => {
  let written: string[];
  let dir: string;
  const savedSummary = process.env.GITHUB_STEP_SUMMARY;

  beforeEach(() => {
    written = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return true;
    });
    dir = mkdtempSync(path.join(tmpdir(), "report-test-"));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    if (savedSummary === undefined) delete process.env.GITHUB_STEP_SUMMARY;
    else process.env.GITHUB_STEP_SUMMARY = savedSummary;
    rmSync(dir, { recursive: true, force: true });
  });

  it("skips the summary silently without GITHUB_STEP_SUMMARY", async () => {
    delete process.env.GITHUB_STEP_SUMMARY;
    await emitGithub(cleanReport(), githubActionsSink());
    expect(written).toEqual([]);
  });

  it("escapes %, newlines and :: in messages and : , in properties; writes the summary file", async () => {
    const summaryFile = path.join(dir, "summary.md");
    writeFileSync(summaryFile, "");
    process.env.GITHUB_STEP_SUMMARY = summaryFile;
    const r: CheckReport = {
      ok: false,
      findings: [
        { rule: "body-size", severity: "error", file: "newsletters/2026-12-01-a,b/body.md", line: 3, column: 5, message: "100% over\r\nthe limit ::warning::x" },
        { rule: "link-staging", severity: "warning", file: BODY, line: 2, column: 1, message: "staging link" },
        { rule: "suppression-applied", severity: "note", file: LIST, line: 1, column: 1, message: "2 suppressed" },
      ],
      newsletters: [{ dir: "newsletters/2026-12-01-a", id: "2026-12-01-a", list: "customers", recipients: 5, suppressed: 2, contentAddresses: 0 }],
    };
    await emitGithub(r, githubActionsSink());
    const out = written.join("");
    const lines = out.split("\n").filter(Boolean);
    expect(lines).toEqual([
      "::error title=body-size%3A Body too large,file=newsletters/2026-12-01-a%2Cb/body.md,line=3,col=5::100%25 over%0D%0Athe limit ::warning::x",
      `::warning title=link-staging%3A Link to a staging or local host,file=${BODY},line=2,col=1::staging link`,
      `::notice title=suppression-applied%3A Suppressed recipients,file=${LIST},line=1,col=1::2 suppressed`,
    ]);
    // one workflow command per line: nothing in a message can start a new command
    expect(out.split("\n").filter((l) => l.startsWith("::"))).toHaveLength(3);
    const summary = readFileSync(summaryFile, "utf8");
    expect(summary).toContain("## ❌ Newsletter check: 1 error, 1 warning");
    expect(summary).toContain("100\\% over the limit \\:\\:warning\\:\\:x");
    expect(summary).toContain("| `2026-12-01-a` | `customers` | 5 | 2 | 0 |");
  });
});

// ---------------------------------------------------------------------------
// dispatcher

describe("renderReport", () => {
  it("lists the formats and dispatches to each", async () => {
    expect(FORMATS).toEqual(["text", "json", "sarif", "github"]);
    expect(isFormat("sarif")).toBe(true);
    expect(isFormat("xml")).toBe(false);
    const r = sampleReport();
    expect(await renderReport(r, "text", { toolVersion: "0.1.0" })).toBe(formatText(r, { color: false }));
    expect(await renderReport(r, "text", { toolVersion: "0.1.0", color: true })).toBe(formatText(r, { color: true }));
    expect(await renderReport(r, "json", { toolVersion: "0.1.0" })).toBe(formatJson(r));
    expect(await renderReport(r, "sarif", { toolVersion: "0.1.0" })).toBe(formatSarif(r, { toolVersion: "0.1.0" }));
    const sink = new FakeSink();
    const log = await renderReport(r, "github", { toolVersion: "0.1.0", githubSink: sink });
    expect(log).toBe(formatText(r, { color: false }));
    expect(sink.annotations).toHaveLength(4);
    expect(sink.summaries).toHaveLength(1);
  });

  it("derives the SARIF informationUri from the runner's variables only when they are sane", () => {
    expect(informationUriFromEnv({ GITHUB_REPOSITORY: "octo-org/newsletters" })).toBe("https://github.com/octo-org/newsletters");
    expect(informationUriFromEnv({ GITHUB_REPOSITORY: "o/r", GITHUB_SERVER_URL: "https://ghe.example.com/" })).toBe("https://ghe.example.com/o/r");
    expect(informationUriFromEnv({})).toBeUndefined();
    expect(informationUriFromEnv({ GITHUB_REPOSITORY: "o/r", GITHUB_SERVER_URL: "javascript:alert(1)" })).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------
// no address in full, in any format

describe("formatters add no raw content", () => {
  async function allOutputs(r: CheckReport): Promise<string[]> {
    const sink = new FakeSink();
    const outs = [
      formatText(r, { color: false }),
      formatText(r, { color: true }),
      formatJson(r),
      formatSarif(r, { toolVersion: "0.1.0", informationUri: "https://github.com/octo-org/newsletters" }),
    ];
    await emitGithub(r, sink);
    outs.push(...sink.summaries, JSON.stringify(sink.annotations));
    return outs;
  }

  it("a masked address stays masked and nothing address-shaped appears in full", async () => {
    const r = sampleReport();
    r.newsletters[0]!.subject = "Hello taro@example.com"; // content: never printed
    for (const out of await allOutputs(r)) {
      expect(out).not.toContain("taro@example.com");
      expect(out).not.toMatch(FULL_ADDRESS);
      expect(out.replace(/\\(.)/g, "$1")).toContain(MASKED);
    }
  });

  it("masks an address a producer failed to mask (the net under the producers)", async () => {
    const r: CheckReport = {
      ok: false,
      findings: [{ rule: "leak-unknown-address", severity: "error", file: BODY, line: 1, column: 1, message: "Address hanako@shop.example outside the allowlist" }],
      newsletters: [{ dir: "newsletters/x", id: "x", list: "list-of-jiro@example.org" }],
    };
    for (const out of await allOutputs(r)) {
      expect(out).not.toContain("hanako@shop.example");
      expect(out).not.toContain("jiro@example.org");
      expect(out).not.toMatch(FULL_ADDRESS);
    }
  });
});
