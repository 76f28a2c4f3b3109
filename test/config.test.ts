import { describe, expect, it } from "vitest";
import type { RuleId } from "../src/findings/rules.ts";
import { parseConfig, unsatisfiableStages, unsubscribeUrlProblem } from "../src/load/config.ts";
import { parseMailbox } from "../src/load/mailbox.ts";
import { parseNewsletterMeta } from "../src/load/newsletter-meta.ts";
import { applyConfigDefaults } from "../src/load/schema/config.ts";
import { createAjv, schemaFindings } from "../src/load/schema-findings.ts";
import { checkNewsletterId } from "../src/load/schema/newsletter.ts";
import { locate, locateValue, parseYaml, valueLocator } from "../src/load/yaml-doc.ts";

// The full configuration example, with reserved domains only.
const FULL = `# .github/newsletter.yml
sender:
  from: "Example Corp News <news@corp.example>"
  reply_to: support@corp.example
  list_id: product-news.corp.example            # List-Id header
  unsubscribe:
    url: "https://corp.example/unsubscribe?u={{ unsubscribe_token }}"
    mailto: unsubscribe@corp.example
  postal_address: "Example Corp, 1-2-3 Chiyoda, Tokyo"
approvals:
  ordered: false                                 # true: stages must approve in this order
  stages:
    - { name: content, owners: ["@corp/newsletter-editors"] }
    - { name: privacy, owners: ["@corp/privacy-office"] }
    - { name: release, owners: ["@carol"] }
approvers:                                       # GitHub login -> address for approval copies
  alice: alice@corp.example
  bob: bob@corp.example
  carol: carol@corp.example
leakage:
  allow_addresses: [support@corp.example]
  allow_domains: [corp.example]
  max_body_bytes: 102400
sending:
  rate_per_second: 100
  connections: 5
  canary: { size: 20, pause_seconds: 300, monitors: [monitor@corp.example] }   # optional
  max_failure_rate: 0.05
`;

const MINIMAL = `sender:
  from: news@corp.example
approvals:
  stages:
    - { name: content, owners: ["@corp/editors"] }
    - { name: privacy, owners: ["@corp/privacy"] }
    - { name: release, owners: ["@carol"] }
`;

const CFG = ".github/newsletter.yml";
const NL = "newsletters/2026-12-01-winter/newsletter.yml";

/** Addresses never appear in full in a message. */
const FULL_ADDRESS = /[a-z0-9._-]{2,}@[a-z0-9-]{2,}\.[a-z]/i;

describe("parseConfig", () => {
  it("parses the full configuration example", () => {
    const { config, findings } = parseConfig(FULL, CFG);
    expect(findings).toEqual([]);
    expect(config).not.toBeNull();
    expect(config!.sender.from).toBe("Example Corp News <news@corp.example>");
    expect(config!.sender.list_id).toBe("product-news.corp.example");
    expect(config!.sender.unsubscribe?.url).toContain("{{ unsubscribe_token }}");
    expect(config!.approvals.stages.map((s) => s.name)).toEqual(["content", "privacy", "release"]);
    expect(config!.approvers).toEqual({ alice: "alice@corp.example", bob: "bob@corp.example", carol: "carol@corp.example" });
    expect(config!.sending.canary).toEqual({ size: 20, pause_seconds: 300, monitors: ["monitor@corp.example"] });
    expect(config!.sending.max_failure_rate).toBe(0.05);
    expect(config!.state_branch).toBe("newsletter-state");
  });

  it("applies the defaults to a minimal configuration", () => {
    const { config, findings } = parseConfig(MINIMAL, CFG);
    expect(findings).toEqual([]);
    expect(config).toEqual({
      sender: { from: "news@corp.example", locale: "en" },
      layout: { brand_color: "#0b5cad" },
      approvals: {
        ordered: false,
        stages: [
          { name: "content", owners: ["@corp/editors"] },
          { name: "privacy", owners: ["@corp/privacy"] },
          { name: "release", owners: ["@carol"] },
        ],
      },
      approvers: {},
      leakage: { allow_addresses: [], allow_domains: [], max_body_bytes: 102400 },
      sending: { rate_per_second: 100, connections: 5, max_failure_rate: 0.05 },
      recipient_data: { lists_in_git: "warning", suppress_permanent_failures: true },
      state_branch: "newsletter-state",
    });
  });

  it("fills canary defaults only when a canary is configured", () => {
    const { config } = parseConfig(`${MINIMAL}sending:\n  canary: { size: 5 }\n`, CFG);
    expect(config?.sending.canary).toEqual({ size: 5, pause_seconds: 300, monitors: [] });
  });

  it("applyConfigDefaults resolves a configuration built in code, without touching the input", () => {
    const input = { sender: { from: "news@corp.example" }, approvals: { stages: [] as { name: string; owners: string[] }[] } };
    input.approvals.stages.push({ name: "a", owners: ["@a"] }, { name: "b", owners: ["@b"] }, { name: "c", owners: ["@c"] });
    const r = applyConfigDefaults(input);
    expect(r.sending.connections).toBe(5);
    expect("sending" in input).toBe(false);
    expect(() => applyConfigDefaults({ ...input, approvals: { stages: [] } })).toThrow(/schema/);
  });

  it("reports every error of one file at once, each with its own line", () => {
    const text = `sender:
  from: news
  frm: x@corp.example
approvals:
  ordered: maybe
  stages:
    - { name: content, owners: ["@carol"] }
sending:
  connections: 100
`;
    const { config, findings } = parseConfig(text, CFG);
    expect(config).toBeNull();
    const got = findings.map((f) => [f.line, f.message]);
    expect(got).toEqual([
      [2, expect.stringContaining("has no @")],
      [3, expect.stringContaining('unknown key "frm" in sender (did you mean "from"?)')],
      [5, expect.stringContaining("approvals.ordered must be true or false")],
      [6, expect.stringContaining("must list at least 3 items (found 1)")],
      [9, expect.stringContaining("sending.connections must be at most 50 (found 100)")],
    ]);
    for (const f of findings) expect(f.file).toBe(CFG);
  });

  it("never prints a configured address in full", () => {
    const text = `sender:
  from: "News <taro.yamada@corp.example"
  reply_to: taro.yamada@localhost
approvals:
  stages: []
approvers:
  "taro.yamada@corp.example": taro.yamada@corp
leakage:
  allow_addresses: ["hanako suzuki@corp.example"]
`;
    const { findings } = parseConfig(text, CFG);
    expect(findings.length).toBeGreaterThanOrEqual(4);
    for (const f of findings) expect(f.message).not.toMatch(FULL_ADDRESS);
  });
});

interface Case {
  name: string;
  kind: "config" | "newsletter";
  text: string;
  rule: RuleId;
  line: number;
  column?: number;
  message: string;
}

const STAGES = `approvals:
  stages:
    - { name: content, owners: ["@corp/editors"] }
    - { name: privacy, owners: ["@corp/privacy"] }
    - { name: release, owners: ["@carol"] }
`;

const CASES: Case[] = [
  {
    name: "unknown key names the allowed keys",
    kind: "config",
    text: `sender:\n  from: news@corp.example\n  bcc: x@corp.example\n${STAGES}`,
    rule: "schema",
    line: 3,
    column: 3,
    message: 'unknown key "bcc" in sender; allowed keys: from, reply_to, list_id, unsubscribe, postal_address',
  },
  {
    name: "unknown top-level key",
    kind: "config",
    text: `${MINIMAL}retries: 3\n`,
    rule: "schema",
    line: 8,
    message: "allowed keys: sender, layout, approvals, approvers, leakage, sending, recipient_data, state_branch",
  },
  {
    name: "wrong type names the expected type",
    kind: "config",
    text: `${MINIMAL}sending:\n  rate_per_second: fast\n`,
    rule: "schema",
    line: 9,
    column: 20,
    message: "sending.rate_per_second must be a number, found text",
  },
  {
    name: "duplicate key",
    kind: "config",
    text: `sender:\n  from: news@corp.example\n  from: other@corp.example\n${STAGES}`,
    rule: "yaml-syntax",
    line: 3,
    column: 3,
    message: 'duplicate key "from"',
  },
  {
    name: "anchor refused",
    kind: "config",
    text: `sender: &s\n  from: news@corp.example\n${STAGES}`,
    rule: "yaml-syntax",
    line: 1,
    column: 9,
    message: "anchor &s is not allowed",
  },
  {
    name: "alias refused",
    kind: "config",
    text: `${MINIMAL}approvers:\n  carol: &c carol@corp.example\n  dave: *c\n`,
    rule: "yaml-syntax",
    line: 10,
    column: 9,
    message: "alias *c is not allowed",
  },
  {
    name: "merge key refused",
    kind: "config",
    text: `sender:\n  <<: { from: news@corp.example }\n${STAGES}`,
    rule: "yaml-syntax",
    line: 2,
    column: 3,
    message: "merge key << is not allowed",
  },
  {
    name: "custom tag refused",
    kind: "config",
    text: `sender:\n  from: !secret news\n${STAGES}`,
    rule: "yaml-syntax",
    line: 2,
    column: 9,
    message: "tag !secret is not allowed",
  },
  {
    name: "%YAML 1.1 directive refused",
    kind: "config",
    text: `%YAML 1.1\n---\n${MINIMAL}`,
    rule: "yaml-syntax",
    line: 1,
    column: 1,
    message: "directives are not allowed",
  },
  {
    name: "tab indentation",
    kind: "config",
    text: `sender:\n\tfrom: news@corp.example\n${STAGES}`,
    rule: "yaml-syntax",
    line: 2,
    column: 1,
    message: "indent with spaces",
  },
  {
    name: "non-mapping root",
    kind: "config",
    text: "- sender\n- approvals\n",
    rule: "yaml-syntax",
    line: 1,
    column: 1,
    message: "must be a mapping of keys to values",
  },
  {
    name: "empty file",
    kind: "config",
    text: "# nothing here yet\n",
    rule: "yaml-syntax",
    line: 1,
    column: 1,
    message: "the file is empty",
  },
  {
    name: "bad owner syntax",
    kind: "config",
    text: `sender: { from: news@corp.example }\napprovals:\n  stages:\n    - { name: content, owners: ["corp/editors"] }\n    - { name: privacy, owners: ["@corp/privacy"] }\n    - { name: release, owners: ["@carol"] }\n`,
    rule: "schema",
    line: 4,
    column: 33,
    message: 'approvals.stages[0].owners[0] must be an owner written "@login" or "@org/team"',
  },
  {
    name: "unquoted @owner is a YAML error with a hint",
    kind: "config",
    text: `sender: { from: news@corp.example }\napprovals:\n  stages:\n    - { name: content, owners: [@carol] }\n`,
    rule: "yaml-syntax",
    line: 4,
    message: "put the value in quotes",
  },
  {
    name: "fewer than three stages",
    kind: "config",
    text: `sender: { from: news@corp.example }\napprovals:\n  stages:\n    - { name: content, owners: ["@corp/editors"] }\n`,
    rule: "schema",
    line: 3,
    column: 3,
    message: "approvals.stages must list at least 3 items (found 1)",
  },
  {
    name: "duplicate stage name",
    kind: "config",
    text: `sender: { from: news@corp.example }\napprovals:\n  stages:\n    - { name: content, owners: ["@corp/a"] }\n    - { name: content, owners: ["@corp/b"] }\n    - { name: release, owners: ["@carol"] }\n`,
    rule: "schema",
    line: 5,
    column: 15,
    message: 'is already the name of stage 0; stage names must be unique',
  },
  {
    name: "stages no set of distinct people can approve",
    kind: "config",
    text: `sender: { from: news@corp.example }\napprovals:\n  stages:\n    - { name: content, owners: ["@carol"] }\n    - { name: privacy, owners: ["@carol"] }\n    - { name: release, owners: ["@corp/release"] }\n`,
    rule: "schema",
    line: 3,
    message: "the stages content, privacy can only be approved by @carol",
  },
  {
    name: "approver login syntax",
    kind: "config",
    text: `${MINIMAL}approvers:\n  -carol: carol@corp.example\n`,
    rule: "schema",
    line: 9,
    column: 3,
    message: 'key "-carol" in approvers is not valid: it must be a GitHub login',
  },
  {
    name: "approver address invalid, masked",
    kind: "config",
    text: `${MINIMAL}approvers:\n  carol: carol@corp\n`,
    rule: "schema",
    line: 9,
    column: 10,
    message: "approvers.carol: the address c***@c*** has a domain without a dot",
  },
  {
    name: "http unsubscribe url",
    kind: "config",
    text: `sender:\n  from: news@corp.example\n  unsubscribe:\n    url: http://corp.example/u?t={{ unsubscribe_token }}\n${STAGES}`,
    rule: "schema",
    line: 4,
    column: 10,
    message: "must be an https:// URL",
  },
  {
    name: "unsubscribe url without the token",
    kind: "config",
    text: `sender:\n  from: news@corp.example\n  unsubscribe:\n    url: https://corp.example/unsubscribe\n${STAGES}`,
    rule: "schema",
    line: 4,
    message: "must contain {{ unsubscribe_token }}",
  },
  {
    name: "enum-like boolean names the allowed values",
    kind: "config",
    text: `sender: { from: news@corp.example }\napprovals:\n  ordered: yes\n  stages:\n    - { name: content, owners: ["@corp/editors"] }\n    - { name: privacy, owners: ["@corp/privacy"] }\n    - { name: release, owners: ["@carol"] }\n`,
    rule: "schema",
    line: 3,
    column: 12,
    message: "approvals.ordered must be true or false, found text",
  },
  {
    name: "bad list_id",
    kind: "config",
    text: `sender:\n  from: news@corp.example\n  list_id: newsletter\n${STAGES}`,
    rule: "schema",
    line: 3,
    column: 12,
    message: "a List-Id (RFC 2919)",
  },
  {
    name: "max_failure_rate out of range",
    kind: "config",
    text: `${MINIMAL}sending:\n  max_failure_rate: 5\n`,
    rule: "schema",
    line: 9,
    message: "sending.max_failure_rate must be at most 1 (found 5)",
  },
  {
    name: "sender.from missing",
    kind: "config",
    text: `sender:\n  reply_to: support@corp.example\n${STAGES}`,
    rule: "schema",
    line: 1,
    column: 1,
    message: 'missing required key "from" in sender',
  },
  // newsletter.yml
  {
    name: "subject missing",
    kind: "newsletter",
    text: "recipients: customers\n",
    rule: "schema",
    line: 1,
    column: 1,
    message: 'missing required key "subject" at the top level',
  },
  {
    name: "attachments refused, allowed keys named",
    kind: "newsletter",
    text: "subject: Winter news\nrecipients: customers\nattachments: [price-list.pdf]\n",
    rule: "schema",
    line: 3,
    column: 1,
    message: 'unknown key "attachments" at the top level; allowed keys: subject, recipients, preheader, reply_to, send_after, cancelled, expected_change, allow_markers',
  },
  {
    name: "bad list name",
    kind: "newsletter",
    text: "subject: Winter news\nrecipients: ../customers\n",
    rule: "schema",
    line: 2,
    column: 13,
    message: "recipients must be a list name: lowercase letters, digits",
  },
  {
    name: "list name with .csv",
    kind: "newsletter",
    text: "subject: Winter news\nrecipients: customers.csv\n",
    rule: "schema",
    line: 2,
    message: 'write "customers" for recipients/customers.csv',
  },
  {
    name: "suppression list is not a send list",
    kind: "newsletter",
    text: "subject: Winter news\nrecipients: suppressions\n",
    rule: "schema",
    line: 2,
    column: 13,
    message: 'recipients must not be "suppressions"',
  },
  {
    name: "subject too long",
    kind: "newsletter",
    text: `subject: ${"a".repeat(201)}\nrecipients: customers\n`,
    rule: "schema",
    line: 1,
    column: 10,
    message: "subject must be at most 200 characters long (it has 201)",
  },
  {
    name: "blank subject",
    kind: "newsletter",
    text: `subject: "   "\nrecipients: customers\n`,
    rule: "schema",
    line: 1,
    message: "subject must be a single line of text that is not blank",
  },
  {
    name: "subject with a line break (header injection)",
    kind: "newsletter",
    text: `subject: "News\\nBcc: x@corp.example"\nrecipients: customers\n`,
    rule: "schema",
    line: 1,
    message: "single line of text",
  },
  {
    name: "send_after without time zone",
    kind: "newsletter",
    text: "subject: Winter news\nrecipients: customers\nsend_after: 2026-12-01T09:00:00\n",
    rule: "schema",
    line: 3,
    column: 13,
    message: "a date and time with a time zone",
  },
  {
    name: "NaN is not a failure rate",
    kind: "config",
    text: `${MINIMAL}sending:\n  max_failure_rate: .nan\n`,
    rule: "schema",
    line: 9,
    message: "sending.max_failure_rate must be a number, found a value that is not a finite number",
  },
  {
    name: "hexadecimal number refused",
    kind: "config",
    text: `${MINIMAL}sending:\n  connections: 0x10\n`,
    rule: "yaml-syntax",
    line: 9,
    column: 16,
    message: "write the number in decimal",
  },
  {
    name: "number where text is expected",
    kind: "newsletter",
    text: "subject: 2026\nrecipients: customers\n",
    rule: "schema",
    line: 1,
    column: 10,
    message: "subject must be text, found a whole number; put it in quotes",
  },
  {
    name: "expected_change not an integer",
    kind: "newsletter",
    text: "subject: Winter news\nrecipients: customers\nexpected_change: 1.5\n",
    rule: "schema",
    line: 3,
    message: "expected_change must be a whole number",
  },
  {
    name: "subject with a mapping inside (unquoted colon)",
    kind: "newsletter",
    text: "subject: News: winter edition\nrecipients: customers\n",
    rule: "yaml-syntax",
    line: 1,
    message: "put it in quotes",
  },
  {
    name: "two documents",
    kind: "newsletter",
    text: "subject: Winter news\nrecipients: customers\n---\nsubject: Other\n",
    rule: "yaml-syntax",
    line: 3,
    message: "remove the second",
  },
];

describe("malformed configuration and newsletter.yml", () => {
  it("has at least 20 cases", () => expect(CASES.length).toBeGreaterThanOrEqual(20));

  it.each(CASES)("$name", (c) => {
    const file = c.kind === "config" ? CFG : NL;
    const r = c.kind === "config" ? parseConfig(c.text, file) : parseNewsletterMeta(c.text, file);
    const value = c.kind === "config" ? (r as ReturnType<typeof parseConfig>).config : (r as ReturnType<typeof parseNewsletterMeta>).meta;
    expect(value).toBeNull();
    const hit = r.findings.find((f) => f.message.includes(c.message));
    expect(hit, `no finding containing ${JSON.stringify(c.message)} in ${JSON.stringify(r.findings, null, 1)}`).toBeDefined();
    expect(hit!.rule).toBe(c.rule);
    expect(hit!.severity).toBe("error");
    expect(hit!.file).toBe(file);
    expect(hit!.line).toBe(c.line);
    if (c.column !== undefined) expect(hit!.column).toBe(c.column);
    for (const f of r.findings) {
      expect(f.message).not.toMatch(FULL_ADDRESS);
      expect(f.message).not.toMatch(/\n|    at /); // one line, no code frame or stack
    }
  });
});

describe("parseNewsletterMeta", () => {
  it("returns the metadata and the positions of the text values", () => {
    const text = [
      "# winter",
      "subject: 'Winter news for {{ name }}'",
      "recipients: customers",
      "preheader:   What is new this winter",
      'reply_to: "Support <support@corp.example>"',
      "send_after: 2026-12-01T09:00:00+09:00",
      "expected_change: -12",
      "",
    ].join("\n");
    const r = parseNewsletterMeta(text, NL);
    expect(r.findings).toEqual([]);
    expect(r.meta).toEqual({
      subject: "Winter news for {{ name }}",
      recipients: "customers",
      preheader: "What is new this winter",
      reply_to: "Support <support@corp.example>",
      send_after: "2026-12-01T09:00:00+09:00",
      expected_change: -12,
    });
    // Inside the quote: column of "W".
    expect(r.positions.subject).toEqual({ line: 2, column: 11 });
    expect(r.positions.preheader).toEqual({ line: 4, column: 14 });
    const placeholder = text.split("\n")[1]!.indexOf("{{") + 1;
    expect(r.positions.subject!.column + "Winter news for ".length).toBe(placeholder);
  });

  it("points into block scalars at their first content line", () => {
    const r = parseNewsletterMeta("subject: >-\n  Winter\n  news\nrecipients: customers\n", NL);
    expect(r.meta?.subject).toBe("Winter news");
    expect(r.positions.subject).toEqual({ line: 2, column: 3 });
  });

  it("locates every character of folded, multi-line and escaped values", () => {
    const where = (text: string, needle: string) => {
      const { source, data } = parseYaml(text, NL);
      const subject = String(data!.subject);
      return valueLocator(source, "/subject")!(subject.indexOf(needle));
    };
    const pos = (text: string, needle: string) => {
      const i = text.indexOf(needle);
      return { line: text.slice(0, i).split("\n").length, column: i - (text.lastIndexOf("\n", i - 1) + 1) + 1 };
    };
    const cases = [
      ["subject: >-\n  Winter\n  news TODO\nrecipients: customers\n", "TODO"],
      ["subject: |-\n  Winter\n  news TODO\nrecipients: customers\n", "TODO"],
      ["subject: Winter\n  news\n  TODO\nrecipients: customers\n", "TODO"],
      ["subject: \"Winter\r\n  news TODO\"\r\nrecipients: customers\r\n", "TODO"],
      ["subject: 'it''s TODO'\nrecipients: customers\n", "TODO"],
      ['subject: "Caf\\u00e9 \\U0001F600 \\x41 \\"q\\" TODO"\nrecipients: customers\n', "TODO"],
      ['subject: "Winter \\\n    news TODO"\nrecipients: customers\n', "TODO"],
    ] as const;
    for (const [text, needle] of cases) {
      expect(where(text, needle), text).toEqual(pos(text, needle));
    }
  });

  it("warns when a # turns the rest of the subject into a comment", () => {
    const r = parseNewsletterMeta("subject: Issue #42 is out\nrecipients: customers\n", NL);
    expect(r.meta?.subject).toBe("Issue");
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ rule: "yaml-syntax", severity: "warning", line: 1, column: 16 });
    expect(r.findings[0]!.message).toContain("put the whole value in quotes");
  });

  it("does not count a byte order mark as a column, and handles CRLF", () => {
    const r = parseNewsletterMeta('\uFEFFsubject: "Hi"\r\nrecipients: customers\r\ncc: x\r\n', NL);
    expect(r.positions.subject).toEqual({ line: 1, column: 11 });
    expect(r.findings.map((f) => [f.line, f.column])).toEqual([[3, 1]]);
  });

  it("reports positions even when the file has errors", () => {
    const r = parseNewsletterMeta('subject: "Hi"\nrecipients: customers\ncc: [x]\n', NL);
    expect(r.meta).toBeNull();
    expect(r.positions.subject).toEqual({ line: 1, column: 11 });
  });

  it("checks reply_to as a mailbox", () => {
    const r = parseNewsletterMeta("subject: Hi\nrecipients: customers\nreply_to: Support <support@corp>\n", NL);
    expect(r.findings.map((f) => [f.line, f.message])).toEqual([[3, "reply_to: the address s***@c*** has a domain without a dot"]]);
  });
});

describe("checkNewsletterId", () => {
  it.each(["2026-12-01-winter", "2024-02-29-leap-day", "2026-01-31-a1-b2"])("accepts %s", (id) => {
    expect(checkNewsletterId(id)).toEqual([]);
  });

  it.each([
    ["2026-02-30-winter", "not a date on the calendar"],
    ["2025-02-29-leap", "not a date on the calendar"],
    ["2026-13-01-winter", "not a date on the calendar"],
    ["2026-12-01", "does not start with a date"],
    ["winter-2026", "does not start with a date"],
    ["2026-12-01-Winter", "slug"],
    ["2026-12-01-winter--update", "slug"],
    ["2026-12-01-winter-", "slug"],
    ["2026-12-01-winter_update", "slug"],
  ])("refuses %s", (id, fragment) => {
    const f = checkNewsletterId(id);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ rule: "newsletter-id", severity: "error", file: `newsletters/${id}`, line: 1, column: 1 });
    expect(f[0]!.message).toContain(fragment);
  });
});

describe("locate", () => {
  const text = `sender:
  from: "News <news@corp.example>"
approvals:
  stages:
    - name: content
      owners: ["@a", "@b"]
    - { name: privacy, owners: ["@c"] }
empty:
`;
  const { source } = parseYaml(text, CFG);

  it("maps instance paths to source positions", () => {
    expect(locate(source, "")).toEqual({ line: 1, column: 1 });
    expect(locate(source, "/sender")).toEqual({ line: 1, column: 1 }); // block map → its key
    expect(locate(source, "/sender/from")).toEqual({ line: 2, column: 9 }); // the quote
    expect(locate(source, "/sender/from", "key")).toEqual({ line: 2, column: 3 });
    expect(locate(source, "/approvals/stages/0")).toEqual({ line: 5, column: 7 }); // list item
    expect(locate(source, "/approvals/stages/0/owners/1")).toEqual({ line: 6, column: 22 });
    expect(locate(source, "/approvals/stages/1")).toEqual({ line: 7, column: 7 }); // flow map
    expect(locate(source, "/empty")).toEqual({ line: 8, column: 1 }); // empty value → key
    expect(locate(source, "/approvals/stages/1/nothing/deeper")).toEqual({ line: 7, column: 7 }); // deepest existing
    expect(locateValue(source, "/sender/from")).toEqual({ line: 2, column: 10 });
    expect(locateValue(source, "/approvals")).toBeUndefined();
  });
});

describe("helpers", () => {
  it("parses mailboxes", () => {
    expect(parseMailbox("Example Corp News <news@corp.example>")).toEqual({
      ok: true,
      name: "Example Corp News",
      address: "news@corp.example",
      normalised: "news@corp.example",
    });
    expect(parseMailbox('"Corp, Inc." <News@Corp.Example>')).toMatchObject({ ok: true, name: "Corp, Inc.", normalised: "news@corp.example" });
    expect(parseMailbox("news@corp.example")).toMatchObject({ ok: true, name: undefined });
    expect(parseMailbox("News <news@corp.example")).toMatchObject({ ok: false });
    expect(parseMailbox("News <news@corp.example>\r\nBcc: x@corp.example")).toMatchObject({ ok: false });
  });

  it("checks the unsubscribe URL", () => {
    expect(unsubscribeUrlProblem("https://corp.example/u?t={{ unsubscribe_token }}")).toBeNull();
    expect(unsubscribeUrlProblem("https://corp.example/u/{{unsubscribe_token}}")).toBeNull();
    expect(unsubscribeUrlProblem("https://user:pw@corp.example/u?t={{ unsubscribe_token }}")).toContain("user name or password");
    expect(unsubscribeUrlProblem("https://corp.example/u?e={{ email }}&t={{ unsubscribe_token }}")).toContain("only the placeholder");
  });

  it("finds stage sets that distinct people cannot approve", () => {
    const s = (name: string, ...owners: string[]) => ({ name, owners });
    expect(unsatisfiableStages([s("a", "@x"), s("b", "@y"), s("c", "@z")])).toBeNull();
    expect(unsatisfiableStages([s("a", "@x", "@y", "@z"), s("b", "@x"), s("c", "@Y")])).toBeNull();
    expect(unsatisfiableStages([s("a", "@x", "@y"), s("b", "@x"), s("c", "@Y")])).toContain("a, b, c can only be approved by @x, @y");
    expect(unsatisfiableStages([s("a", "@x"), s("b", "@X"), s("c", "@org/team")])).toContain("a, b");
    expect(unsatisfiableStages([s("a", "@x", "@y"), s("b", "@x", "@y"), s("c", "@y")])).toContain("a, b, c");
  });
});

describe("schemaFindings", () => {
  const schema = {
    type: "object",
    additionalProperties: false,
    properties: {
      mode: { enum: ["text", "json", "sarif"] },
      target: { anyOf: [{ type: "string", pattern: "^https://" }, { type: "integer", minimum: 1 }] },
      names: { type: "object", propertyNames: { pattern: "^[a-z]+$" }, additionalProperties: { type: "string" } },
    },
  } as const;
  const validate = createAjv().compile(schema);
  const run = (text: string) => {
    const { source, data } = parseYaml(text, "x.yml");
    validate(structuredClone(data));
    return schemaFindings(validate.errors, source, { "^[a-z]+$": "lowercase letters" });
  };

  it("names the allowed values of an enum", () => {
    expect(run("mode: xml\n")).toEqual([
      { rule: "schema", severity: "error", file: "x.yml", line: 1, column: 7, message: 'mode must be one of: "text", "json", "sarif"' },
    ]);
  });

  it("folds an anyOf cascade into one finding", () => {
    const f = run("target: -3\n");
    expect(f.map((x) => x.message)).toEqual(["target does not match any of the allowed forms"]);
  });

  it("reports a bad map key once, at the key", () => {
    const f = run("names:\n  ok: a\n  Bad: b\n");
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ line: 3, column: 3, message: 'key "Bad" in names is not valid: it must be lowercase letters' });
  });
});

