/**
 * The incident, replayed (docs/design.md, "Why it exists"). A customer list of 13,011
 * addresses is `recipients/customers.csv`; the newsletter content holds them,
 * all of them (as the incident's body did, plain and as a table) or one of
 * them written so a naive check misses it. For every case and every output
 * format of the real CLI: exit 1, `leak-list-address` at the right file, line
 * and column, and NONE of the 13,011 addresses anywhere in stdout, stderr or
 * the GitHub job summary.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkLeaks } from "../src/check/leak/scan.ts";
import { normaliseText } from "../src/address/normalise.ts";
import type { JsonReport } from "../src/report/json.ts";
import { customers, customersCsv, INCIDENT_SIZE, plainListBody, tableBody, type Customer, type IncidentBody } from "./helpers/incident.ts";
import { makeRepo, runCli, SAMPLE_DIR, sampleText, type CliResult } from "./helpers/repo.ts";

const LIST = customers();
const CSV = customersCsv(LIST);
const ADDRESSES = new Set(LIST.map((c) => c.normalised));
const LOCAL_PARTS = new Set(LIST.map((c) => c.normalised.slice(0, c.normalised.lastIndexOf("@"))));
const BODY_FILE = `${SAMPLE_DIR}/body.md`;
const META_FILE = `${SAMPLE_DIR}/newsletter.yml`;
const FORMATS = ["text", "json", "sarif", "github"] as const;
type Format = (typeof FORMATS)[number];

// ---------------------------------------------------------------------------
// Looking for the list in what the CLI printed

/**
 * Every address of the list that appears in `out`, in full: each `@` with the
 * longest run of address characters on either side (so `"a@b.example",` and
 * `<a@b.example>` are found, which a split on whitespace would miss), after the
 * normalisation the checks use (NFKC, invisible characters dropped, lower
 * case), tested against the Set. Then every run of local-part characters
 * against the Set of local parts, which catches a list address in any other
 * spelling (`%40`, `&#64;`, `[at]`) as long as its local part is whole. A
 * masked `t***@e***.com` matches neither.
 */
function leakedAddresses(out: string): string[] {
  const text = normaliseText(out);
  const leaked: string[] = [];
  for (const m of text.matchAll(/[a-z0-9._+'-]+@[a-z0-9.-]+/g)) {
    const a = m[0].replace(/^[._'+-]+/, "").replace(/[.-]+$/, "");
    if (ADDRESSES.has(a)) leaked.push(a);
  }
  for (const m of text.matchAll(/[a-z0-9._+'-]+/g)) {
    const local = m[0].replace(/^[._'+-]+/, "").replace(/[._'+-]+$/, "");
    if (LOCAL_PARTS.has(local)) leaked.push(local);
  }
  return leaked;
}

let summaryDir: string;
let summaryFile: string;
const savedSummary = process.env.GITHUB_STEP_SUMMARY;

beforeAll(() => {
  // @actions/core's summary is a process-wide singleton that keeps the first
  // path it wrote to: one file for this whole test file, emptied before each run.
  summaryDir = mkdtempSync(path.join(tmpdir(), "nl-incident-summary-"));
  summaryFile = path.join(summaryDir, "step-summary.md");
  writeFileSync(summaryFile, "");
  process.env.GITHUB_STEP_SUMMARY = summaryFile;
});

afterAll(() => {
  if (savedSummary === undefined) delete process.env.GITHUB_STEP_SUMMARY;
  else process.env.GITHUB_STEP_SUMMARY = savedSummary;
  rmSync(summaryDir, { recursive: true, force: true });
});

interface Run extends CliResult {
  /** The job summary written by `--format github`; "" for the other formats. */
  summary: string;
}

async function check(root: string, format: Format): Promise<Run> {
  writeFileSync(summaryFile, "");
  const env = format === "github" ? { GITHUB_STEP_SUMMARY: summaryFile } : {};
  const r = await runCli(["--root", root, "check", SAMPLE_DIR, "--format", format], { env });
  return { ...r, summary: format === "github" ? readFileSync(summaryFile, "utf8") : "" };
}

/** Nothing of the list in any stream, whatever the format. */
function expectNoAddressOut(r: Run, extra: readonly string[] = []): void {
  for (const [stream, text] of [["stdout", r.stdout], ["stderr", r.stderr], ["summary", r.summary]] as const) {
    expect(leakedAddresses(text), `${stream} holds list addresses`).toEqual([]);
    for (const s of extra) expect(text.includes(s), `${stream} holds ${JSON.stringify(s)}`).toBe(false);
  }
}

interface Location {
  file: string;
  line: number;
  column: number;
}

/** The `leak-list-address` locations (and the addresses-counted note) as each format states them. */
function leakLocations(r: Run, format: Format): Location[] {
  switch (format) {
    case "json": {
      const j = JSON.parse(r.stdout) as JsonReport;
      expect(j.ok).toBe(false);
      return j.findings
        .filter((f) => f.rule === "leak-list-address" && !f.message.startsWith("…and"))
        .map((f) => ({ file: f.file, line: f.line, column: f.column }));
    }
    case "sarif": {
      const s = JSON.parse(r.stdout) as {
        runs: Array<{
          results: Array<{
            ruleId: string;
            message: { text: string };
            locations?: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number; startColumn: number } } }>;
          }>;
        }>;
      };
      return s.runs[0]!.results
        .filter((x) => x.ruleId === "leak-list-address" && !x.message.text.startsWith("…and"))
        .map((x) => {
          const p = x.locations![0]!.physicalLocation;
          return { file: p.artifactLocation.uri, line: p.region.startLine, column: p.region.startColumn };
        });
    }
    case "text":
    case "github": {
      // The plain text report (the github format prints it to the job log too).
      const re = /^ {2}(\S+):(\d+):(\d+) +error +leak-list-address +(.*)$/gm;
      return [...r.stdout.matchAll(re)]
        .filter((m) => !m[4]!.startsWith("…and"))
        .map((m) => ({ file: m[1]!, line: Number(m[2]), column: Number(m[3]) }));
    }
  }
}

/** Where GitHub puts the annotation and the summary row of a finding. */
function expectGithubFinding(r: Run, at: Location): void {
  const annotation = `::error title=leak-list-address%3A A recipient-list address is in the content,file=${at.file},line=${at.line},col=${at.column}::`;
  expect(r.stdout).toContain(annotation);
  expect(r.summary).toMatch(/^## ❌ Newsletter check: /m);
  expect(r.summary).toContain(`| \`${at.file}:${at.line}:${at.column}\` | \`leak-list-address\` | error |`);
}

// ---------------------------------------------------------------------------
// All 13,011 in the body

describe.each([
  ["a plain list", plainListBody],
  ["a Markdown table beside Japanese names", tableBody],
] as const)("the body holds all 13,011 addresses as %s", (_name, build) => {
  let root: string;
  let body: IncidentBody;

  beforeAll(() => {
    body = build(LIST);
    root = makeRepo({ "recipients/customers.csv": CSV, [BODY_FILE]: body.text });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("finds every one of them, each at its own line and column (cap lifted, through the API)", () => {
    const r = checkLeaks([{ file: BODY_FILE, text: body.text }], {
      listAddresses: ADDRESSES,
      allowAddresses: new Set(),
      allowDomains: [],
      maxFindingsPerRule: Number.POSITIVE_INFINITY,
    });
    const leaks = r.findings.filter((f) => f.rule === "leak-list-address");
    expect(leaks).toHaveLength(INCIDENT_SIZE);
    expect(r.distinct).toBe(INCIDENT_SIZE);
    leaks.forEach((f, i) => {
      if (f.line !== body.lineOf(i) || f.column !== body.columnOf(i)) {
        expect({ i, line: f.line, column: f.column }).toEqual({ i, line: body.lineOf(i), column: body.columnOf(i) });
      }
    });
    expect(r.findings.filter((f) => f.rule === "leak-unknown-address")).toEqual([]);
    expect(leakedAddresses(r.findings.map((f) => f.message).join("\n"))).toEqual([]);
  });

  it.each(FORMATS)("--format %s: exit 1, leak-list-address at each line, no address printed", async (format) => {
    const r = await check(root, format);
    expect(r.code).toBe(1);
    expectNoAddressOut(r);

    // The first 100 occurrences are listed one by one, in order, at their own lines.
    const at = leakLocations(r, format);
    expect(at.length).toBe(100);
    at.forEach((loc, i) => expect(loc).toEqual({ file: BODY_FILE, line: body.lineOf(i), column: body.columnOf(i) }));

    // …and all 13,011 were found and counted as list addresses.
    const counted = `13,011 distinct addresses in the content: 13,011 on a recipient or suppression list, 0 outside the allowlist, 0 allowlisted`;
    const more = `…and 12,911 more occurrences from here on, not listed one by one`;
    switch (format) {
      case "json": {
        const j = JSON.parse(r.stdout) as JsonReport;
        expect(j.newsletters[0]).toMatchObject({ list: "customers", recipients: INCIDENT_SIZE, content_addresses: INCIDENT_SIZE });
        expect(j.findings.find((f) => f.rule === "addresses-counted")?.message).toBe(counted);
        expect(j.findings.find((f) => f.rule === "leak-list-address" && f.message === more)).toMatchObject({
          file: BODY_FILE,
          line: body.lineOf(100),
          column: body.columnOf(100),
        });
        break;
      }
      case "sarif":
        expect(r.stdout).toContain(JSON.stringify(counted));
        expect(r.stdout).toContain(JSON.stringify(more));
        break;
      case "text":
        expect(r.stdout).toContain(counted);
        expect(r.stdout).toContain(`list customers, ${INCIDENT_SIZE} recipients, 0 suppressed, ${INCIDENT_SIZE} distinct content addresses`);
        break;
      case "github":
        expectGithubFinding(r, at[0]!);
        expect(r.summary).toContain(`| \`2026-12-01-winter-update\` | \`customers\` | ${INCIDENT_SIZE} | 0 | ${INCIDENT_SIZE} |`);
        expect(r.summary).toContain("13\\,011 distinct addresses in the content\\: 13\\,011 on a recipient or suppression list");
        break;
    }
  });
});

// ---------------------------------------------------------------------------
// One list address, written so that a naive check misses it

interface OneCase {
  name: string;
  /** Which customer. */
  index: number;
  /** The address as the content writes it. */
  written: (c: Customer) => string;
  /** The line of content holding it (the written form is found in it for the column). */
  line: (written: string) => string;
  file: "body.md" | "newsletter.yml";
}

const local = (c: Customer): string => c.email.slice(0, c.email.lastIndexOf("@"));
const domain = (c: Customer): string => c.email.slice(c.email.lastIndexOf("@") + 1);

const ONE: readonly OneCase[] = [
  {
    name: "full-width ＠ and ．",
    index: 4242,
    written: (c) => `${local(c)}＠${domain(c).replaceAll(".", "．")}`,
    line: (w) => `ご担当：${w}までご連絡ください。`,
    file: "body.md",
  },
  {
    name: "&#64;",
    index: 777,
    written: (c) => `${local(c)}&#64;${domain(c)}`,
    line: (w) => `Questions about your account? Write to ${w} today.`,
    file: "body.md",
  },
  {
    name: "%40 in a mailto: link",
    index: 12_000,
    written: (c) => `${local(c)}%40${domain(c)}`,
    line: (w) => `Ask [our customer success team](mailto:${w}?subject=Winter) anything.`,
    file: "body.md",
  },
  {
    name: "[at] and [dot]",
    index: 9001,
    written: (c) => `${local(c).replaceAll(".", " [dot] ")} [at] ${domain(c).replaceAll(".", " [dot] ")}`,
    line: (w) => `Our reference customer: ${w}.`,
    file: "body.md",
  },
  {
    name: "a zero-width space inside (and mixed case)",
    index: 13 + 97 * 50,
    written: (c) => `${local(c).slice(0, 4)}\u200b${local(c).slice(4)}@${domain(c)}`,
    line: (w) => `Thanks to ${w} for the feedback.`,
    file: "body.md",
  },
  {
    name: "アットマーク",
    index: 31,
    written: (c) => `${local(c)}アットマーク${domain(c)}`,
    line: (w) => `お問い合わせ先：${w}です。`,
    file: "body.md",
  },
  {
    name: "the subject in newsletter.yml",
    index: 13_010,
    written: (c) => c.email,
    line: (w) => `subject: "{{ first_name }}, a note from ${w}"`,
    file: "newsletter.yml",
  },
];

describe.each(ONE)("one list address in the content: $name", (tc) => {
  const c = LIST[tc.index]!;
  const written = tc.written(c);
  const lineText = tc.line(written);
  const file = `${SAMPLE_DIR}/${tc.file}`;
  // body.md: the line goes in as line 3; newsletter.yml: it replaces line 1 (the subject).
  const lineNo = tc.file === "body.md" ? 3 : 1;
  const at: Location = { file, line: lineNo, column: lineText.indexOf(written) + 1 };
  /** Strings none of which may be printed: the address as listed, as normalised, as written, and its local part. */
  const secrets = [c.email, c.normalised, written, local(c), local(c).toLowerCase()];
  let root: string;

  beforeAll(() => {
    const original = sampleText(file).split("\n");
    const lines =
      tc.file === "body.md" ? [...original.slice(0, 2), lineText, "", ...original.slice(2)] : [lineText, ...original.slice(1)];
    expect(lines[lineNo - 1]).toBe(lineText);
    root = makeRepo({ "recipients/customers.csv": CSV, [file]: lines.join("\n") });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.each(FORMATS)("--format %s: exit 1, leak-list-address at the address, nothing printed in full", async (format) => {
    const r = await check(root, format);
    expect(r.code).toBe(1);
    expectNoAddressOut(r, secrets);
    expect(leakLocations(r, format)).toEqual([at]);
    if (format === "json") {
      const j = JSON.parse(r.stdout) as JsonReport;
      // The leak is the only error: nothing else in the sample trips.
      expect(j.findings.filter((f) => f.severity === "error").map((f) => f.rule)).toEqual(["leak-list-address"]);
      const leak = j.findings.find((f) => f.rule === "leak-list-address")!;
      expect(leak.message).toContain("is on recipients/customers.csv");
      expect(j.newsletters[0]).toMatchObject({ recipients: INCIDENT_SIZE });
    }
    if (format === "github") expectGithubFinding(r, at);
  });
});

describe("the output scanner itself", () => {
  it("finds a list address however it is punctuated, and not a masked one", () => {
    const c = LIST[4242]!;
    expect(leakedAddresses(`{"message": "${c.email}",}`)).toContain(c.normalised);
    expect(leakedAddresses(`<${c.email.toUpperCase()}>.`)).toContain(c.normalised);
    expect(leakedAddresses(`${local(c)}%40${domain(c)}`)).toContain(local(c));
    expect(leakedAddresses(`${local(c)}＠${domain(c)}`)).toContain(c.normalised);
    expect(leakedAddresses("t***@e***.org is on recipients/customers.csv; 13,011 distinct")).toEqual([]);
  });
});
