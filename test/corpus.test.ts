/**
 * The malformed-input corpus of `check`: each case is
 * a small change to a copy of the sample repository, run through the real
 * CLI in-process, with the exit code, the rule, the file, the line (and the
 * column where it is meaningful) that must come out. Every case also asserts
 * that no stack trace is printed and that no address of the case's data
 * appears in full on any stream; a handful are rendered in every format.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RuleId } from "../src/findings/rules.ts";
import { makeRepo, runCli, sampleText, SAMPLE_DIR, type CliResult } from "./helpers/repo.ts";

// ---------------------------------------------------------------------------
// The sample's files and small helpers to change them

const CONFIG = ".github/newsletter.yml";
const META = `${SAMPLE_DIR}/newsletter.yml`;
const BODY = `${SAMPLE_DIR}/body.md`;
const LIST = "recipients/customers.csv";
const SUPP = "recipients/suppressions.csv";
const SAMPLE_FILES = [CONFIG, META, BODY, LIST, SUPP];

const text = (file: string): string => sampleText(file);

/** `text` with `needle` replaced once; fails loudly when the sample no longer holds `needle`. */
function sub(file: string, needle: string, replacement: string): string {
  const t = text(file);
  if (!t.includes(needle)) throw new Error(`corpus: ${file} does not contain ${JSON.stringify(needle)}`);
  return t.replace(needle, replacement);
}

/** 1-based line of the first occurrence of `needle` in `t`. */
function lineOf(t: string, needle: string): number {
  const i = t.indexOf(needle);
  if (i < 0) throw new Error(`corpus: text does not contain ${JSON.stringify(needle)}`);
  return t.slice(0, i).split("\n").length;
}

/** 1-based column (UTF-16 code units) of the first occurrence of `needle` in `t`. */
function colOf(t: string, needle: string): number {
  const i = t.indexOf(needle);
  if (i < 0) throw new Error(`corpus: text does not contain ${JSON.stringify(needle)}`);
  return i - (t.lastIndexOf("\n", i - 1) + 1) + 1;
}

/** The column just past the last character of line `line` of `t`. */
function endOfLine(t: string, line: number): number {
  return t.split("\n")[line - 1]!.replace(/\r$/, "").length + 1;
}

/** Line and column of `needle` in `t`. */
function at(t: string, needle: string): { line: number; column: number } {
  return { line: lineOf(t, needle), column: colOf(t, needle) };
}

/** The sample's data rows plus `rows`, as a customers.csv. */
function listWith(...rows: string[]): string {
  return text(LIST).replace(/\n?$/, "\n") + rows.map((r) => `${r}\n`).join("");
}

/** A body of the sample's shape whose line 3 is `line3`. */
function bodyWith(line3: string): string {
  return `# Hello {{ first_name }},\n\n${line3}\n\nQuestions? Write to support@corp.example.\n`;
}

const LEDGER_BEGIN = `.newsletter-state/ledger/2026-11-01-autumn/all.jsonl`;
const beginRecord = (rows: number): string =>
  JSON.stringify({ t: "begin", id: "2026-11-01-autumn", list: "customers", list_rows: rows, digest: "ab".repeat(32), at: "2026-11-01T00:00:00Z" }) +
  "\n";

// ---------------------------------------------------------------------------
// The corpus

interface Expected {
  rule: RuleId;
  file: string;
  line: number;
  column?: number;
  /** Part of the (masked) message that must be there. */
  message?: string | RegExp;
}

interface Case {
  name: string;
  /** Files changed in the copy of the sample (null deletes). */
  changes?: Record<string, string | Uint8Array | null>;
  /** The folder passed to `check`; default the sample's. */
  dir?: string;
  code: 0 | 1 | 2;
  /** Findings that must be present (an empty list: a clean case). */
  expect: Expected[];
  /** Rules that must not be reported. */
  absent?: RuleId[];
  /** Addresses used in the case that the regex below cannot find (obfuscated, full-width...). */
  addresses?: string[];
}

const config = text(CONFIG);
const meta = text(META);
const list = text(LIST);

const cases: Case[] = [
  // --- YAML syntax: .github/newsletter.yml --------------------------------
  (() => {
    const t = sub(CONFIG, 'from: "Example Corp News <news@corp.example>"', 'from: "Example Corp News <news@corp.example>');
    // Pointed at the end of the line that opens the quote: where the closing quote is missing.
    const line = lineOf(t, '"Example Corp News');
    return { name: "config: unclosed double quote", changes: { [CONFIG]: t }, code: 1, expect: [{ rule: "yaml-syntax", file: CONFIG, line, column: endOfLine(t, line), message: /close the quote/ }] } satisfies Case;
  })(),
  (() => {
    const t = sub(CONFIG, "  reply_to: support@corp.example", "   reply_to: support@corp.example");
    return { name: "config: bad indentation", changes: { [CONFIG]: t }, code: 1, expect: [{ rule: "yaml-syntax", file: CONFIG, line: lineOf(t, "reply_to:") }] } satisfies Case;
  })(),
  (() => {
    const t = sub(CONFIG, "  connections: 5", "\tconnections: 5");
    return { name: "config: tab indentation", changes: { [CONFIG]: t }, code: 1, expect: [{ rule: "yaml-syntax", file: CONFIG, line: lineOf(t, "\tconnections"), message: /indent with spaces/ }] } satisfies Case;
  })(),
  (() => {
    const t = sub(CONFIG, "  connections: 5\n", "  connections: 5\n  connections: 6\n");
    return {
      name: "config: duplicate key",
      changes: { [CONFIG]: t },
      code: 1,
      expect: [{ rule: "yaml-syntax", file: CONFIG, ...at(t, "connections: 6"), message: /duplicate key "connections"/ }],
    } satisfies Case;
  })(),
  (() => {
    const t = sub(CONFIG, "reply_to: support@corp.example", "reply_to: &support support@corp.example").replace(
      "mailto: unsubscribe@corp.example",
      "mailto: *support",
    );
    return {
      name: "config: anchor and alias",
      changes: { [CONFIG]: t },
      code: 1,
      expect: [
        { rule: "yaml-syntax", file: CONFIG, ...at(t, "&support"), message: /anchor &support/ },
        { rule: "yaml-syntax", file: CONFIG, ...at(t, "*support"), message: /alias \*support/ },
      ],
    } satisfies Case;
  })(),

  // --- YAML syntax: newsletter.yml -----------------------------------------
  (() => {
    const t = sub(META, '冬のアップデート"', "冬のアップデート");
    return { name: "newsletter.yml: unclosed double quote", changes: { [META]: t }, code: 1, expect: [{ rule: "yaml-syntax", file: META, line: 1, column: endOfLine(t, 1), message: /close the quote/ }] } satisfies Case;
  })(),
  (() => {
    const t = sub(META, "recipients: customers", "  recipients: customers");
    return { name: "newsletter.yml: bad indentation", changes: { [META]: t }, code: 1, expect: [{ rule: "yaml-syntax", file: META, line: 2 }] } satisfies Case;
  })(),
  (() => {
    const t = "subject: Winter update\nrecipients:\n\tcustomers\n";
    return { name: "newsletter.yml: tab indentation", changes: { [META]: t }, code: 1, expect: [{ rule: "yaml-syntax", file: META, line: 3 }] } satisfies Case;
  })(),
  (() => {
    const t = meta.replace(/\n?$/, "\n") + 'subject: "The other subject"\n';
    return {
      name: "newsletter.yml: duplicate key",
      changes: { [META]: t },
      code: 1,
      expect: [{ rule: "yaml-syntax", file: META, ...at(t, 'subject: "The other'), message: /duplicate key "subject"/ }],
    } satisfies Case;
  })(),
  (() => {
    const t = 'subject: &s "Winter update"\nrecipients: customers\npreheader: *s\n';
    return {
      name: "newsletter.yml: anchor and alias",
      changes: { [META]: t },
      code: 1,
      expect: [
        { rule: "yaml-syntax", file: META, ...at(t, "&s") },
        { rule: "yaml-syntax", file: META, ...at(t, "*s") },
      ],
    } satisfies Case;
  })(),

  // --- Schema: .github/newsletter.yml --------------------------------------
  (() => {
    const t = sub(CONFIG, "max_failure_rate: 0.05", "max_failure_rte: 0.05");
    return {
      name: "config: unknown key names the allowed keys",
      changes: { [CONFIG]: t },
      code: 1,
      expect: [{ rule: "schema", file: CONFIG, ...at(t, "max_failure_rte"), message: /unknown key "max_failure_rte".*did you mean "max_failure_rate".*allowed keys: rate_per_second, connections/ }],
    } satisfies Case;
  })(),
  (() => {
    const t = sub(CONFIG, '  from: "Example Corp News <news@corp.example>"\n', "");
    return { name: "config: sender.from missing", changes: { [CONFIG]: t }, code: 1, expect: [{ rule: "schema", file: CONFIG, ...at(t, "sender:"), message: /missing required key "from" in sender/ }] } satisfies Case;
  })(),
  (() => {
    const t = sub(CONFIG, "connections: 5", "connections: 0");
    return { name: "config: connections 0 (range)", changes: { [CONFIG]: t }, code: 1, expect: [{ rule: "schema", file: CONFIG, ...at(t, "0\n  max_failure"), message: /at least 1/ }] } satisfies Case;
  })(),
  (() => {
    const t = sub(CONFIG, "max_failure_rate: 0.05", "max_failure_rate: 2");
    return { name: "config: max_failure_rate 2 (range)", changes: { [CONFIG]: t }, code: 1, expect: [{ rule: "schema", file: CONFIG, line: lineOf(t, "max_failure_rate"), column: colOf(t, "max_failure_rate: ") + "max_failure_rate: ".length, message: /at most 1/ }] } satisfies Case;
  })(),
  (() => {
    const t = sub(CONFIG, "max_body_bytes: 102400", 'max_body_bytes: "100 KB"');
    return { name: "config: wrong type (text for a number)", changes: { [CONFIG]: t }, code: 1, expect: [{ rule: "schema", file: CONFIG, ...at(t, '"100 KB"'), message: /a whole number/ }] } satisfies Case;
  })(),
  (() => {
    const t = sub(CONFIG, "ordered: false", "ordered: sometimes");
    return { name: "config: wrong type (text for a boolean)", changes: { [CONFIG]: t }, code: 1, expect: [{ rule: "schema", file: CONFIG, ...at(t, "sometimes"), message: /true or false/ }] } satisfies Case;
  })(),
  (() => {
    const t = sub(CONFIG, '    - { name: release, owners: ["@carol"] }\n', "");
    return { name: "config: fewer than 3 stages", changes: { [CONFIG]: t }, code: 1, expect: [{ rule: "schema", file: CONFIG, ...at(t, "stages:"), message: /at least 3 items/ }] } satisfies Case;
  })(),
  (() => {
    const t = sub(CONFIG, 'owners: ["@carol"]', 'owners: ["carol"]');
    return { name: "config: bad owner syntax", changes: { [CONFIG]: t }, code: 1, expect: [{ rule: "schema", file: CONFIG, ...at(t, '"carol"'), message: /"@login" or "@org\/team"/ }] } satisfies Case;
  })(),
  (() => {
    const t = sub(CONFIG, 'url: "https://corp.example/unsubscribe', 'url: "http://corp.example/unsubscribe');
    return { name: "config: http unsubscribe url", changes: { [CONFIG]: t }, code: 1, expect: [{ rule: "schema", file: CONFIG, ...at(t, '"http://'), message: /https/ }] } satisfies Case;
  })(),
  (() => {
    const t = sub(CONFIG, 'from: "Example Corp News <news@corp.example>"', 'from: "Example Corp News <news.corp.example>"');
    return { name: "config: sender.from is not an address", changes: { [CONFIG]: t }, code: 1, expect: [{ rule: "schema", file: CONFIG, ...at(t, '"Example Corp News') }] } satisfies Case;
  })(),
  (() => {
    const t = sub(CONFIG, "bob: bob@corp.example", "bob: bob@@corp.example");
    return { name: "config: approver address invalid", changes: { [CONFIG]: t }, code: 1, expect: [{ rule: "schema", file: CONFIG, ...at(t, "bob@@corp") }], addresses: ["bob@@corp.example"] } satisfies Case;
  })(),

  // --- Schema: newsletter.yml ----------------------------------------------
  (() => {
    const t = "recipients: customers\n";
    return { name: "newsletter.yml: subject missing", changes: { [META]: t }, code: 1, expect: [{ rule: "schema", file: META, line: 1, column: 1, message: /missing required key "subject"/ }] } satisfies Case;
  })(),
  (() => {
    const t = 'subject: "Winter update"\n';
    return { name: "newsletter.yml: recipients missing", changes: { [META]: t }, code: 1, expect: [{ rule: "schema", file: META, line: 1, column: 1, message: /missing required key "recipients"/ }] } satisfies Case;
  })(),
  (() => {
    const t = meta.replace(/\n?$/, "\n") + "attachments: [brochure.pdf]\n";
    return { name: "newsletter.yml: attachments key", changes: { [META]: t }, code: 1, expect: [{ rule: "schema", file: META, ...at(t, "attachments"), message: /unknown key "attachments".*allowed keys: subject, recipients/ }] } satisfies Case;
  })(),
  (() => {
    const t = sub(META, "recipients: customers", "recipients: ../x");
    return { name: "newsletter.yml: list name ../x", changes: { [META]: t }, code: 1, expect: [{ rule: "schema", file: META, ...at(t, "../x"), message: /list name/ }], absent: ["input-missing"] } satisfies Case;
  })(),
  (() => {
    const t = sub(META, "recipients: customers", "recipients: suppressions");
    return { name: "newsletter.yml: the suppression list as recipients", changes: { [META]: t }, code: 1, expect: [{ rule: "schema", file: META, ...at(t, "suppressions") }] } satisfies Case;
  })(),
  (() => {
    const t = sub(META, "recipients: customers", "recipients: [customers]");
    return { name: "newsletter.yml: wrong type (list for text)", changes: { [META]: t }, code: 1, expect: [{ rule: "schema", file: META, ...at(t, "[customers]"), message: /must be text/ }] } satisfies Case;
  })(),
  (() => {
    const t = meta.replace(/\n?$/, "\n") + 'send_after: "next tuesday"\n';
    return { name: "newsletter.yml: send_after not a date", changes: { [META]: t }, code: 1, expect: [{ rule: "schema", file: META, ...at(t, '"next tuesday"'), message: /RFC 3339/ }] } satisfies Case;
  })(),
  (() => {
    const t = meta.replace(/\n?$/, "\n") + "expected_change: 10.5\n";
    return { name: "newsletter.yml: expected_change not an integer", changes: { [META]: t }, code: 1, expect: [{ rule: "schema", file: META, ...at(t, "10.5"), message: /whole number/ }] } satisfies Case;
  })(),
  (() => {
    const t = meta.replace(/\n?$/, "\n") + 'reply_to: "Support <support.corp.example>"\n';
    return { name: "newsletter.yml: reply_to not an address", changes: { [META]: t }, code: 1, expect: [{ rule: "schema", file: META, ...at(t, '"Support') }] } satisfies Case;
  })(),

  // --- Folder ids ------------------------------------------------------------
  {
    name: "folder id without a date",
    changes: { "newsletters/winter-update/newsletter.yml": meta, "newsletters/winter-update/body.md": text(BODY) },
    dir: "newsletters/winter-update",
    code: 1,
    expect: [{ rule: "newsletter-id", file: "newsletters/winter-update", line: 1, column: 1, message: /YYYY-MM-DD/ }],
  },
  {
    name: "folder id with an impossible date (2026-02-30)",
    changes: { "newsletters/2026-02-30-winter/newsletter.yml": meta, "newsletters/2026-02-30-winter/body.md": text(BODY) },
    dir: "newsletters/2026-02-30-winter",
    code: 1,
    expect: [{ rule: "newsletter-id", file: "newsletters/2026-02-30-winter", line: 1, column: 1, message: /not a date on the calendar/ }],
  },

  // --- Missing inputs (exit 2) ---------------------------------------------
  { name: "missing .github/newsletter.yml", changes: { [CONFIG]: null }, code: 2, expect: [{ rule: "input-missing", file: CONFIG, line: 1, column: 1 }] },
  { name: "missing newsletter.yml", changes: { [META]: null }, code: 2, expect: [{ rule: "input-missing", file: META, line: 1, column: 1 }] },
  { name: "missing body.md", changes: { [BODY]: null }, code: 2, expect: [{ rule: "input-missing", file: BODY, line: 1, column: 1 }] },
  {
    name: "missing newsletter folder",
    dir: "newsletters/2026-12-24-no-such-thing",
    code: 2,
    expect: [{ rule: "input-missing", file: "newsletters/2026-12-24-no-such-thing", line: 1, column: 1 }],
  },
  (() => {
    const t = sub(META, "recipients: customers", "recipients: partners");
    return { name: "list named but absent", changes: { [META]: t }, code: 1, expect: [{ rule: "list-missing", file: META, ...at(t, "partners"), message: /customers/ }] } satisfies Case;
  })(),

  // --- Encodings (exit 2) ----------------------------------------------------
  {
    name: "body.md in Shift_JIS",
    // "# Hello\n\n" then 「こんにちは」 in Shift_JIS: 0x82 is never a UTF-8 lead byte.
    changes: { [BODY]: Buffer.concat([Buffer.from("# Hello\n\nAB"), Buffer.from([0x82, 0xb1, 0x82, 0xf1, 0x82, 0xc9, 0x82, 0xbf, 0x82, 0xcd]), Buffer.from("\n")]) },
    code: 2,
    expect: [{ rule: "input-encoding", file: BODY, line: 3, column: 3 }],
  },
  {
    name: "newsletter.yml in Latin-1",
    changes: { [META]: Buffer.concat([Buffer.from("recipients: customers\nsubject: Caf"), Buffer.from([0xe9]), Buffer.from(" news\n")]) },
    code: 2,
    expect: [{ rule: "input-encoding", file: META, line: 2, column: 13 }],
  },
  {
    name: "list CSV in Latin-1",
    // "Amélie" with é as the single Latin-1 byte 0xE9.
    changes: {
      [LIST]: Buffer.concat([
        Buffer.from("email,first_name,plan\ntaro.yamada@example.com,Taro,Business\namelie@customer.example,Am"),
        Buffer.from([0xe9]),
        Buffer.from("lie,Business\n"),
      ]),
    },
    code: 2,
    expect: [{ rule: "input-encoding", file: LIST, line: 3, column: "amelie@customer.example,Am".length + 1 }],
    addresses: ["taro.yamada@example.com", "amelie@customer.example"],
  },
  {
    name: "suppressions CSV in Latin-1",
    changes: { [SUPP]: Buffer.concat([Buffer.from("email,reason\nnobody.home@example.com,d"), Buffer.from([0xe9]), Buffer.from("sabonn\n")]) },
    code: 2,
    expect: [{ rule: "input-encoding", file: SUPP, line: 2, column: "nobody.home@example.com,d".length + 1 }],
  },

  // --- Bad CSV ---------------------------------------------------------------
  (() => {
    const t = listWith('"ken.ito@shop.example,Ken,Free', "mika@shop.example,Mika,Free");
    return { name: "CSV: unterminated quote", changes: { [LIST]: t }, code: 1, expect: [{ rule: "list-csv", file: LIST, ...at(t, '"ken.ito') }] } satisfies Case;
  })(),
  (() => {
    const t = listWith('ken.ito@shop.example,Ke"n,Free');
    return { name: "CSV: stray quote", changes: { [LIST]: t }, code: 1, expect: [{ rule: "list-csv", file: LIST, ...at(t, '"n,Free') }] } satisfies Case;
  })(),
  (() => {
    const t = listWith("ken.ito@shop.example,Ken");
    return { name: "CSV: wrong field count", changes: { [LIST]: t }, code: 1, expect: [{ rule: "list-field-count", file: LIST, line: lineOf(t, "ken.ito"), column: 1, message: /2 fields; the header has 3/ }] } satisfies Case;
  })(),
  (() => {
    const t = list.replace(/^email,/, "mail,");
    return { name: "CSV: no email column", changes: { [LIST]: t }, code: 1, expect: [{ rule: "list-header", file: LIST, line: 1, message: /no `email` column.*rename `mail` to `email`/ }] } satisfies Case;
  })(),
  {
    name: "CSV: header only (empty list)",
    changes: { [LIST]: "email,first_name,plan\n" },
    code: 1,
    expect: [{ rule: "list-empty", file: LIST, line: 1, message: /no recipients/ }],
  },
  (() => {
    const t = listWith("ken.ito.shop.example,Ken,Free");
    return { name: "CSV: invalid address", changes: { [LIST]: t }, code: 1, expect: [{ rule: "list-invalid-address", file: LIST, line: lineOf(t, "ken.ito"), column: 1 }], addresses: ["ken.ito.shop.example"] } satisfies Case;
  })(),
  (() => {
    const t = listWith("Taro.Yamada＠ＥＸＡＭＰＬＥ.com,Taro,Business");
    return {
      name: "CSV: duplicate after case and full-width normalisation",
      changes: { [LIST]: t },
      code: 1,
      expect: [{ rule: "list-duplicate", file: LIST, line: lineOf(t, "Taro.Yamada＠"), column: 1, message: `already on line ${lineOf(t, "taro.yamada@")}` }],
      addresses: ["taro.yamada@example.com", "Taro.Yamada＠ＥＸＡＭＰＬＥ.com"],
    } satisfies Case;
  })(),
  (() => {
    const t = listWith('ken.ito@shop.example,"Ken (cc hanako.sato@example.net)",Free');
    return {
      name: "CSV: another person's address in the name column",
      changes: { [LIST]: t },
      code: 1,
      expect: [{ rule: "list-address-in-field", file: LIST, ...at(t, '"Ken (cc'), message: /first_name/ }],
    } satisfies Case;
  })(),
  (() => {
    const t = listWith("ken.ito@shop.example,Ken [at] ken.ito [at] home.example,Free");
    return {
      name: "CSV: obfuscated address in the name column",
      changes: { [LIST]: t },
      code: 1,
      expect: [{ rule: "list-address-in-field", file: LIST, line: lineOf(t, "ken.ito@shop"), column: colOf(t, "Ken [at]") }],
      addresses: ["ken.ito@home.example"],
    } satisfies Case;
  })(),
  {
    name: "suppressions.csv without an email column",
    changes: { [SUPP]: "address,reason\nnobody.home@example.com,unsubscribed 2026-10-02\n" },
    code: 1,
    expect: [{ rule: "list-header", file: SUPP, line: 1, message: /no `email` column/ }],
  },

  // --- Content ---------------------------------------------------------------
  (() => {
    // 1,100 lines of 100 bytes: 110,000 bytes over the sample's 102,400; byte 102,400 starts line 1,025.
    const t = `${"a".repeat(99)}\n`.repeat(1100);
    return { name: "body over max_body_bytes", changes: { [BODY]: t }, code: 1, expect: [{ rule: "body-size", file: BODY, line: 1025, column: 1, message: /110,000 bytes/ }] } satisfies Case;
  })(),
  (() => {
    const t = bodyWith("Dear {{ last_name }}, welcome.");
    return { name: "placeholder: unknown field", changes: { [BODY]: t }, code: 1, expect: [{ rule: "placeholder-unknown", file: BODY, ...at(t, "{{ last_name"), message: /columns: email, first_name, plan/ }] } satisfies Case;
  })(),
  (() => {
    const t = bodyWith("You are on the {{ plan }} plan.");
    return {
      name: "placeholder: column empty in some row",
      changes: { [BODY]: t, [LIST]: listWith("ken.ito@shop.example,Ken,") },
      code: 1,
      expect: [{ rule: "placeholder-empty", file: BODY, ...at(t, "{{ plan }}") }],
    } satisfies Case;
  })(),
  (() => {
    const t = bodyWith("Dear *|FNAME|*, welcome.");
    return { name: "placeholder: Mailchimp *|FNAME|*", changes: { [BODY]: t }, code: 1, expect: [{ rule: "placeholder-foreign", file: BODY, ...at(t, "*|FNAME") }] } satisfies Case;
  })(),
  (() => {
    const t = bodyWith("Dear %%name%%, welcome.");
    return { name: "placeholder: %%name%%", changes: { [BODY]: t }, code: 1, expect: [{ rule: "placeholder-foreign", file: BODY, ...at(t, "%%name") }] } satisfies Case;
  })(),
  (() => {
    const t = bodyWith("Dear ${name}, welcome.");
    return { name: "placeholder: ${name}", changes: { [BODY]: t }, code: 1, expect: [{ rule: "placeholder-foreign", file: BODY, ...at(t, "${name}") }] } satisfies Case;
  })(),
  (() => {
    const t = bodyWith("{{#each customers}}{{ email }}{{/each}}");
    return { name: "placeholder: {{#each}}", changes: { [BODY]: t }, code: 1, expect: [{ rule: "placeholder-foreign", file: BODY, ...at(t, "{{#each") }] } satisfies Case;
  })(),
  (() => {
    const t = sub(META, '"{{ first_name }}, the winter update', '"{{ first_name, the winter update');
    return { name: "placeholder: unclosed {{ in the subject", changes: { [META]: t }, code: 1, expect: [{ rule: "placeholder-syntax", file: META, ...at(t, "{{ first_name,") }] } satisfies Case;
  })(),
  (() => {
    const t = bodyWith("Hello {{ first_name, welcome.");
    return { name: "placeholder: unclosed {{ in the body", changes: { [BODY]: t }, code: 1, expect: [{ rule: "placeholder-syntax", file: BODY, ...at(t, "{{ first_name,") }] } satisfies Case;
  })(),
  (() => {
    const t = bodyWith("See [the guide](http://corp.example/guide).");
    return { name: "link: http", changes: { [BODY]: t }, code: 1, expect: [{ rule: "link-insecure", file: BODY, ...at(t, "http://corp") }] } satisfies Case;
  })(),
  (() => {
    const t = bodyWith("See [the guide](https://staging.corp.example/guide).");
    return { name: "link: staging host", changes: { [BODY]: t }, code: 1, expect: [{ rule: "link-staging", file: BODY, ...at(t, "https://staging"), message: /staging/ }] } satisfies Case;
  })(),
  (() => {
    const t = sub(META, 'subject: "{{ first_name }}', 'subject: "[TEST] {{ first_name }}');
    return { name: "[TEST] in the subject", changes: { [META]: t }, code: 1, expect: [{ rule: "test-marker", file: META, ...at(t, "[TEST]") }] } satisfies Case;
  })(),
  (() => {
    const t = bodyWith("TODO: the pricing paragraph.");
    return { name: "TODO in the body", changes: { [BODY]: t }, code: 1, expect: [{ rule: "test-marker", file: BODY, ...at(t, "TODO") }] } satisfies Case;
  })(),
  (() => {
    const t = bodyWith("Your plan: undefined.");
    return { name: "undefined in the body", changes: { [BODY]: t }, code: 1, expect: [{ rule: "literal-undefined", file: BODY, ...at(t, "undefined") }] } satisfies Case;
  })(),
  {
    name: "attachment in the newsletter folder",
    changes: { [`${SAMPLE_DIR}/brochure.pdf`]: Buffer.from("%PDF-1.7\n") },
    code: 1,
    expect: [{ rule: "unexpected-file", file: `${SAMPLE_DIR}/brochure.pdf`, line: 1, column: 1 }],
  },
  (() => {
    const t = bodyWith("Thanks to hanako.sato@example.net for the idea.");
    return { name: "list address in the body", changes: { [BODY]: t }, code: 1, expect: [{ rule: "leak-list-address", file: BODY, ...at(t, "hanako.sato@") }] } satisfies Case;
  })(),
  (() => {
    const t = bodyWith("Thanks to <a href=\"mailto:kenji%40shop.example\">Kenji</a>.");
    return {
      name: "list address in the body, percent-encoded in a mailto link",
      changes: { [BODY]: t },
      code: 1,
      expect: [{ rule: "leak-list-address", file: BODY, line: 3 }],
      addresses: ["kenji@shop.example", "kenji%40shop.example"],
    } satisfies Case;
  })(),
  (() => {
    const t = bodyWith("Thanks to ｍａｒｉａ．ｇａｒｃｉａ＠ｅｘａｍｐｌｅ．ｏｒｇ for the idea.");
    return {
      name: "list address in the body, full-width",
      changes: { [BODY]: t },
      code: 1,
      expect: [{ rule: "leak-list-address", file: BODY, ...at(t, "ｍａｒｉａ") }],
      addresses: ["maria.garcia@example.org", "ｍａｒｉａ．ｇａｒｃｉａ＠ｅｘａｍｐｌｅ．ｏｒｇ"],
    } satisfies Case;
  })(),
  (() => {
    const t = bodyWith("Thanks to li.wei [at] example [dot] com for the idea.");
    return {
      name: "list address in the body, obfuscated",
      changes: { [BODY]: t },
      code: 1,
      expect: [{ rule: "leak-list-address", file: BODY, ...at(t, "li.wei") }],
      addresses: ["li.wei@example.com"],
    } satisfies Case;
  })(),
  (() => {
    const t = bodyWith("We said goodbye to nobody.home@example.com.");
    return { name: "suppressed address in the body", changes: { [BODY]: t }, code: 1, expect: [{ rule: "leak-list-address", file: BODY, ...at(t, "nobody.home@") }] } satisfies Case;
  })(),
  (() => {
    const t = bodyWith("Write to press@elsewhere.example for interviews.");
    return { name: "unknown address in the body", changes: { [BODY]: t }, code: 1, expect: [{ rule: "leak-unknown-address", file: BODY, ...at(t, "press@") }], absent: ["leak-list-address"] } satisfies Case;
  })(),
  (() => {
    const t = sub(META, 'subject: "{{ first_name }}, the winter update', 'subject: "{{ first_name }}, the winter update for yuki@example.test');
    return { name: "list address in the subject", changes: { [META]: t }, code: 1, expect: [{ rule: "leak-list-address", file: META, ...at(t, "yuki@") }] } satisfies Case;
  })(),
  (() => {
    const t = meta.replace(/\n?$/, "\n") + "# reviewed with o.brien@example.net\n";
    return { name: "list address in a newsletter.yml comment", changes: { [META]: t }, code: 1, expect: [{ rule: "leak-list-address", file: META, ...at(t, "o.brien@") }] } satisfies Case;
  })(),

  // --- Positions inside folded, multi-line and escaped YAML values ---------
  (() => {
    const t = "subject: >-\n  Winter update\n  [TEST] for {{ first_name }}\nrecipients: customers\n";
    return { name: "[TEST] in a folded (>-) subject", changes: { [META]: t }, code: 1, expect: [{ rule: "test-marker", file: META, ...at(t, "[TEST]") }] } satisfies Case;
  })(),
  (() => {
    const t = "subject: Winter update for\n  {{ frist_name }}\nrecipients: customers\n";
    return { name: "unknown placeholder on the second line of a plain subject", changes: { [META]: t }, code: 1, expect: [{ rule: "placeholder-unknown", file: META, ...at(t, "{{ frist_name"), message: /did you mean first_name/ }] } satisfies Case;
  })(),
  (() => {
    const t = 'subject: "Caf\\u00e9 news \\"winter\\" [TEST]"\nrecipients: customers\n';
    return { name: "[TEST] after escapes in a double-quoted subject", changes: { [META]: t }, code: 1, expect: [{ rule: "test-marker", file: META, ...at(t, "[TEST]") }] } satisfies Case;
  })(),
  (() => {
    const t = meta.replace(/\n?$/, "\n").replace(/^preheader: .*$/m, 'preheader: "News for {{ first_name }} — DRAFT TODO"');
    return { name: "TODO in the preheader", changes: { [META]: t }, code: 1, expect: [{ rule: "test-marker", file: META, ...at(t, "TODO") }] } satisfies Case;
  })(),
  (() => {
    const t = meta.replace(/^preheader: .*$/m, 'preheader: "Ask j.smith@example.org about exports"');
    return { name: "list address in the preheader", changes: { [META]: t }, code: 1, expect: [{ rule: "leak-list-address", file: META, ...at(t, "j.smith@") }] } satisfies Case;
  })(),
  {
    name: "body.md in Latin-1 after Japanese text (column in characters, not bytes)",
    changes: { [BODY]: Buffer.concat([Buffer.from("# 冬のアップデート\n冬の"), Buffer.from([0xe9]), Buffer.from("\n")]) },
    code: 2,
    expect: [{ rule: "input-encoding", file: BODY, line: 2, column: 3 }],
  },

  // --- Odd folders and file names -------------------------------------------
  {
    name: "check of a folder that is not a newsletter folder",
    dir: "newsletters",
    code: 1,
    expect: [{ rule: "newsletter-id", file: "newsletters", line: 1, column: 1, message: /not a folder directly under newsletters\// }],
    absent: ["unexpected-file", "input-missing"],
  },
  {
    name: "check of the repository root",
    dir: ".",
    code: 1,
    expect: [{ rule: "newsletter-id", file: ".", line: 1, column: 1 }],
    absent: ["unexpected-file", "input-missing"],
  },
  {
    // The file name holds an address: the finding names the file masked, never in full.
    name: "attachment named after a customer address",
    changes: { [`${SAMPLE_DIR}/taro.yamada@example.com.pdf`]: Buffer.from("%PDF-1.7\n") },
    code: 1,
    expect: [{ rule: "unexpected-file", file: "n***@e***.pdf", line: 1, column: 1 }],
  },
  {
    name: "attachment named after a customer address in full-width characters",
    changes: { [`${SAMPLE_DIR}/ｔａｒｏ．ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｃｏｍ`]: Buffer.from("x\n") },
    code: 1,
    expect: [{ rule: "unexpected-file", file: "n***@e***.com", line: 1, column: 1 }],
    addresses: ["ｔａｒｏ．ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｃｏｍ", "taro.yamada@example.com"],
  },
  (() => {
    const t = 'email,first_name,plan\r\n"ken.ito@shop.example","Ken\r\nIto",Free\r\nmika@shop.example,Mika,Free\r\nKEN.ITO@shop.example,Ken,Free\r\n';
    return {
      name: "CSV: duplicate after a quoted field spanning lines (CRLF)",
      changes: { [LIST]: t },
      code: 1,
      expect: [{ rule: "list-duplicate", file: LIST, line: 5, column: 1, message: "already on line 2" }],
    } satisfies Case;
  })(),

  // --- Row count against the last send ------------------------------------
  {
    name: "list grew since its last send, no expected_change",
    changes: { [LEDGER_BEGIN]: beginRecord(3) },
    code: 1,
    expect: [{ rule: "list-row-change", file: META, ...at(meta, "customers"), message: /expected_change: 7/ }],
  },
  (() => {
    const t = meta.replace(/\n?$/, "\n") + "expected_change: 7\n";
    return { name: "list grew since its last send, expected_change matches", changes: { [LEDGER_BEGIN]: beginRecord(3), [META]: t }, code: 0, expect: [], absent: ["list-row-change"] } satisfies Case;
  })(),
  (() => {
    const t = meta.replace(/\n?$/, "\n") + "expected_change: 5\n";
    return { name: "list grew since its last send, expected_change wrong", changes: { [LEDGER_BEGIN]: beginRecord(3), [META]: t }, code: 1, expect: [{ rule: "list-row-change", file: META, ...at(t, "5\n"), message: /expected_change is 5/ }] } satisfies Case;
  })(),
];

// ---------------------------------------------------------------------------
// Assertions shared by every case

/** An address written plainly (after NFKC, so full-width forms count too). */
const ADDRESS = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;

function addressesIn(t: string): string[] {
  return [...t.normalize("NFKC").matchAll(ADDRESS)].map((m) => m[0]);
}

/** Every address in the repository the case ran on: the sample's files, the changes, the extras. */
function caseAddresses(c: Case): string[] {
  const all = new Set<string>();
  const add = (t: string) => addressesIn(t).forEach((a) => all.add(a));
  for (const f of SAMPLE_FILES) add(text(f));
  for (const v of Object.values(c.changes ?? {})) {
    if (v === null) continue;
    // Bytes that are not UTF-8 are read as Latin-1 so their ASCII addresses are found.
    add(typeof v === "string" ? v : Buffer.from(v).toString("latin1"));
  }
  for (const a of c.addresses ?? []) all.add(a);
  return [...all];
}

function assertNoLeak(out: string, addresses: readonly string[]): void {
  const folded = out.normalize("NFKC").toLowerCase();
  for (const a of addresses) {
    const plain = a.normalize("NFKC").toLowerCase();
    expect(folded.includes(plain), `output holds ${a} in full:\n${out}`).toBe(false);
    expect(out.includes(a), `output holds ${a} in full:\n${out}`).toBe(false);
  }
}

function assertNoTrace(r: CliResult): void {
  for (const s of [r.stdout, r.stderr]) {
    expect(s, "stack frame in output").not.toMatch(/^\s+at \S/m);
    expect(s, "error class dump in output").not.toMatch(/\b[A-Z][A-Za-z]*Error:/);
    expect(s, "internal error").not.toMatch(/internal error/i);
  }
}

interface JsonOut {
  ok: boolean;
  findings: Array<{ rule: string; severity: string; file: string; line: number; column: number; message: string }>;
}

function parseJson(r: CliResult): JsonOut {
  let parsed: JsonOut;
  try {
    parsed = JSON.parse(r.stdout) as JsonOut;
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\n--- stderr:\n${r.stderr}`);
  }
  return parsed;
}

function describeFindings(out: JsonOut): string {
  return out.findings.map((f) => `  ${f.rule} ${f.file}:${f.line}:${f.column} ${f.message}`).join("\n");
}

const roots: string[] = [];
function repo(c: Case): string {
  const root = makeRepo(c.changes ?? {});
  roots.push(root);
  return root;
}
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------

describe("check corpus: malformed inputs", () => {
  it("has at least 45 cases with unique names", () => {
    expect(cases.length).toBeGreaterThanOrEqual(45);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const root = repo(c);
    const r = await runCli(["--root", root, "check", c.dir ?? SAMPLE_DIR, "--format", "json"]);
    assertNoTrace(r);
    assertNoLeak(r.stdout + r.stderr, caseAddresses(c));
    expect(r.stderr).toBe("");
    const out = parseJson(r);
    const listing = describeFindings(out);
    expect(r.code, `exit code; findings:\n${listing}`).toBe(c.code);
    expect(out.ok, `ok; findings:\n${listing}`).toBe(c.code === 0);
    for (const e of c.expect) {
      const hit = out.findings.find(
        (f) =>
          f.rule === e.rule &&
          f.file === e.file &&
          f.line === e.line &&
          (e.column === undefined || f.column === e.column) &&
          (e.message === undefined || (typeof e.message === "string" ? f.message.includes(e.message) : e.message.test(f.message))),
      );
      expect(hit, `expected ${e.rule} at ${e.file}:${e.line}${e.column !== undefined ? `:${e.column}` : ""}${e.message ? ` matching ${String(e.message)}` : ""}; got:\n${listing}`).toBeDefined();
      expect(hit!.severity).toBe("error");
    }
    for (const rule of c.absent ?? []) {
      expect(out.findings.filter((f) => f.rule === rule), `unexpected ${rule}; got:\n${listing}`).toEqual([]);
    }
  });
});

describe("check corpus: the clean sample", () => {
  it("exits 0 with ok: true and no error findings", async () => {
    const root = repo({ name: "clean", code: 0, expect: [] });
    const r = await runCli(["--root", root, "check", SAMPLE_DIR, "--format", "json"]);
    assertNoTrace(r);
    assertNoLeak(r.stdout + r.stderr, caseAddresses({ name: "clean", code: 0, expect: [] }));
    expect(r.stderr).toBe("");
    const out = parseJson(r);
    expect(r.code, describeFindings(out)).toBe(0);
    expect(out.ok).toBe(true);
    expect(out.findings.filter((f) => f.severity === "error")).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// The same data in every output format

describe("check corpus: no address in any format", () => {
  const summaryDir = mkdtempSync(path.join(tmpdir(), "nl-summary-"));
  const summaryFile = path.join(summaryDir, "summary.md");
  let savedSummary: string | undefined;
  beforeAll(() => {
    // The github format writes the job summary (through @actions/core) to this file.
    savedSummary = process.env.GITHUB_STEP_SUMMARY;
    process.env.GITHUB_STEP_SUMMARY = summaryFile;
  });
  afterAll(() => {
    if (savedSummary === undefined) delete process.env.GITHUB_STEP_SUMMARY;
    else process.env.GITHUB_STEP_SUMMARY = savedSummary;
    rmSync(summaryDir, { recursive: true, force: true });
  });

  const chosen = [
    "list address in the body",
    "list address in the body, full-width",
    "list address in the subject",
    "unknown address in the body",
    "CSV: duplicate after case and full-width normalisation",
    "CSV: another person's address in the name column",
    "CSV: invalid address",
    "config: approver address invalid",
    "list CSV in Latin-1",
  ];
  const picked = chosen.map((n) => {
    const c = cases.find((x) => x.name === n);
    if (!c) throw new Error(`corpus: no case named ${n}`);
    return c;
  });

  for (const format of ["text", "sarif", "github"] as const) {
    it.each(picked.map((c) => [c.name, c] as const))(`--format ${format}: %s`, async (_name, c) => {
      writeFileSync(summaryFile, "");
      const root = repo(c);
      const r = await runCli(["--root", root, "check", c.dir ?? SAMPLE_DIR, "--format", format]);
      assertNoTrace(r);
      expect(r.code).toBe(c.code);
      const addresses = caseAddresses(c);
      assertNoLeak(r.stdout + r.stderr, addresses);
      // Each expected rule is named in the output, whatever the format.
      for (const e of c.expect) expect(r.stdout).toContain(e.rule);
      if (format === "sarif") {
        const sarif = JSON.parse(r.stdout) as { runs: Array<{ results: Array<{ ruleId: string }> }> };
        expect(sarif.runs[0]!.results.map((x) => x.ruleId)).toEqual(expect.arrayContaining(c.expect.map((e) => e.rule)));
      }
      if (format === "github") {
        expect(r.stdout).toMatch(/^::error /m);
        const summary = readFileSync(summaryFile, "utf8");
        expect(summary).toContain("Newsletter check");
        assertNoLeak(summary, addresses);
      }
    });
  }
});

// ---------------------------------------------------------------------------
// Usage errors: stderr, exit 2, no report

describe("check corpus: usage errors", () => {
  const usage: Array<{ name: string; args: (root: string) => string[]; stderr: RegExp }> = [
    { name: "unknown command", args: (root) => ["--root", root, "frobnicate", SAMPLE_DIR], stderr: /unknown command 'frobnicate'/ },
    { name: "--format xml", args: (root) => ["--root", root, "check", SAMPLE_DIR, "--format", "xml"], stderr: /--format 'xml' is not one of: text, json, sarif, github/ },
    { name: "unknown option", args: (root) => ["--root", root, "check", SAMPLE_DIR, "--fromat", "json"], stderr: /--fromat/ },
    { name: "check without a folder", args: (root) => ["--root", root, "check", "--format", "json"], stderr: /at least one newsletter folder/ },
    { name: "folder outside the root (relative)", args: (root) => ["--root", root, "check", "../elsewhere", "--format", "json"], stderr: /not inside the repository root/ },
    { name: "folder outside the root (absolute)", args: (root) => ["--root", root, "check", path.dirname(root), "--format", "json"], stderr: /not inside the repository root/ },
  ];

  it.each(usage.map((u) => [u.name, u] as const))("%s", async (_name, u) => {
    const root = repo({ name: u.name, code: 2, expect: [] });
    const r = await runCli(u.args(root));
    assertNoTrace(r);
    assertNoLeak(r.stdout + r.stderr, caseAddresses({ name: u.name, code: 2, expect: [] }));
    expect(r.code).toBe(2);
    // Asked for JSON, the error is JSON on stdout as well; otherwise stdout stays empty.
    if (u.args(root).includes("json") && u.args(root).includes("--format")) {
      expect(JSON.parse(r.stdout)).toEqual({ ok: false, error: { code: "usage", exit_code: 2, message: expect.stringMatching(u.stderr) } });
    } else {
      expect(r.stdout).toBe("");
    }
    expect(r.stderr).toMatch(u.stderr);
  });
});
