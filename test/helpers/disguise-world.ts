/**
 * One base world for the disguised-address tests (test/disguise.test.ts):
 * config, newsletter, body, list and suppressions as repository files in
 * memory. A case changes some of them, then runs either layer alone:
 * `checkWorld` through the static checks (checkNewsletters over an
 * in-memory RepoPort), `guardWorld` through composition and the guard with
 * the checks bypassed (makePlan + guardMessage, with the send's list
 * fingerprints). Reserved domains only.
 */
import { fingerprint } from "../../src/address/mask.ts";
import { normaliseAddress } from "../../src/address/normalise.ts";
import { checkNewsletters, type CheckedNewsletter } from "../../src/check/check-newsletters.ts";
import type { Finding } from "../../src/findings/finding.ts";
import { guardMessage } from "../../src/guard/guard.ts";
import { listedKeys } from "../../src/guard/listed.ts";
import type { GuardVerdict } from "../../src/guard/port.ts";
import { parseConfig } from "../../src/load/config.ts";
import { parseNewsletterMeta } from "../../src/load/newsletter-meta.ts";
import type { RepoPort } from "../../src/load/repo.ts";
import { UnreadableInputError } from "../../src/errors.ts";
import { makePlan } from "../../src/send/plan.ts";

export const DIR = "newsletters/2026-12-01-winter";
export const RCPT = "taro@customers.example";
/** Other customers: on the list, or suppressed. */
export const OTHERS = ["hanako@shop.example", "jiro.sato@shop.example", "saburo@shop.example"] as const;
const SECRET = "disguise-test-secret-0123456789abcdef";

export type Files = Record<string, string>;

/** A layout file the guard-alone run composes with when a case sets it (config `layout.file` bypassed with the checks). */
export const LAYOUT = "layouts/admin.html";

export function baseWorld(): Files {
  return {
    ".github/newsletter.yml": [
      "sender:",
      '  from: "Example Corp News <news@corp.example>"',
      "  reply_to: support@corp.example",
      "  unsubscribe:",
      '    url: "https://corp.example/unsubscribe?u={{ unsubscribe_token }}"',
      "  postal_address: \"Example Corp, 1-2-3 Chiyoda, Tokyo\"",
      "approvals:",
      "  stages:",
      '    - { name: content, owners: ["@alice"] }',
      '    - { name: privacy, owners: ["@bob"] }',
      '    - { name: release, owners: ["@carol"] }',
      "leakage:",
      "  allow_addresses: [support@corp.example]",
      "  allow_domains: [corp.example]",
      "",
    ].join("\n"),
    [`${DIR}/newsletter.yml`]: 'subject: "The winter update"\nrecipients: customers\n',
    [`${DIR}/body.md`]: "Hello {{ first_name }},\n\nOur winter update is here.\n",
    "recipients/customers.csv": csv([
      ["email", "first_name", "company"],
      [RCPT, "Taro", "Customers KK"],
      ["hanako@shop.example", "Hanako", "Shop"],
      ["jiro.sato@shop.example", "Jiro", "Shop"],
    ]),
    "recipients/suppressions.csv": "email,reason\nsaburo@shop.example,unsubscribed\n",
  };
}

export function csv(rows: string[][]): string {
  return rows.map((r) => r.map((v) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)).join(",")).join("\n") + "\n";
}

/** The base world with fields of the recipient's own row changed. */
export function withFields(files: Files, values: Readonly<Record<string, string>>): Files {
  const header = ["email", "first_name", "company"];
  const rows = [
    header,
    [RCPT, "Taro", "Customers KK"].map((v, i) => values[header[i]!] ?? v),
    ["hanako@shop.example", "Hanako", "Shop"],
    ["jiro.sato@shop.example", "Jiro", "Shop"],
  ];
  return { ...files, "recipients/customers.csv": csv(rows) };
}

class MemoryRepo implements RepoPort {
  constructor(private readonly files: Files) {}
  async readBytes(p: string): Promise<Uint8Array> {
    const t = this.files[p];
    if (t === undefined) throw new UnreadableInputError(p, `${p}: not found`);
    return Buffer.from(t, "utf8");
  }
  async *streamBytes(p: string): AsyncIterable<Uint8Array> {
    yield await this.readBytes(p);
  }
  async isFile(p: string): Promise<boolean> {
    return p in this.files;
  }
  async isDir(p: string): Promise<boolean> {
    return Object.keys(this.files).some((f) => f.startsWith(`${p}/`));
  }
  async list(p: string): Promise<Array<{ name: string; kind: "file" | "dir" | "other" }>> {
    const names = new Map<string, "file" | "dir">();
    for (const f of Object.keys(this.files)) {
      if (!f.startsWith(`${p}/`)) continue;
      const rest = f.slice(p.length + 1);
      const slash = rest.indexOf("/");
      names.set(slash < 0 ? rest : rest.slice(0, slash), slash < 0 ? "file" : "dir");
    }
    if (names.size === 0) throw new UnreadableInputError(p, `${p}: not found`);
    return [...names].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, kind]) => ({ name, kind }));
  }
}

/** The static checks alone: every finding of the run, and what was checked. */
export async function checkWorld(files: Files): Promise<{ ok: boolean; findings: Finding[]; checked: CheckedNewsletter }> {
  const out = await checkNewsletters({ repo: new MemoryRepo(files), history: { beginRecords: async () => [] } }, [DIR]);
  return { ok: out.report.ok, findings: out.report.findings, checked: out.newsletters[0]! };
}

/** The guard alone: the message `send` would compose for RCPT, with the checks bypassed. */
export function guardWorld(files: Files): GuardVerdict {
  const config = parseConfig(files[".github/newsletter.yml"]!).config;
  const meta = parseNewsletterMeta(files[`${DIR}/newsletter.yml`]!, `${DIR}/newsletter.yml`).meta ?? looseMeta(files);
  if (!config) throw new Error("the base config must parse");
  const rows = parseCsv(files["recipients/customers.csv"]!);
  const supp = parseCsv(files["recipients/suppressions.csv"]!).map((r) => r.email!);
  const addresses = [...rows.map((r) => r.email!), ...supp].map((a) => normaliseAddress(a)!);
  const listed = listedKeys(addresses.map((a) => fingerprint(a, SECRET)));
  const plan = makePlan({
    id: "2026-12-01-winter", config, meta, body: files[`${DIR}/body.md`]!, digest: "0".repeat(64), secret: SECRET,
    date: new Date("2026-12-01T00:00:00Z"), listed,
    // What only an admin's layout can bring into a message (the renderer refuses a body's <style>).
    ...(files[LAYOUT] !== undefined ? { layout: { file: LAYOUT, text: files[LAYOUT] } } : {}),
  });
  const row = rows.find((r) => r.email === RCPT)!;
  const out = plan.messageFor(RCPT, row);
  return guardMessage(out.raw, out.envelope, out.guard);
}

/** A newsletter.yml the loader refuses (a reply_to check bypassed) still composes as written. */
function looseMeta(files: Files) {
  const t = files[`${DIR}/newsletter.yml`]!;
  const reply = /^reply_to:\s*(.*)$/m.exec(t)?.[1]?.trim().replace(/^"(.*)"$/, "$1").replace(/\\"/g, '"');
  return { subject: "The winter update", recipients: "customers", ...(reply ? { reply_to: reply } : {}) };
}

/** RFC 4180 enough for these tests: quoted fields with doubled quotes and line breaks. */
function parseCsv(text: string): Array<Record<string, string>> {
  const records: string[][] = [];
  let field = "";
  let rec: string[] = [];
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') q = false;
      else field += c;
    } else if (c === '"') q = true;
    else if (c === ",") rec.push(field), (field = "");
    else if (c === "\n") rec.push(field), records.push(rec), (rec = []), (field = "");
    else field += c;
  }
  if (field !== "" || rec.length > 0) rec.push(field), records.push(rec);
  const [header, ...rest] = records;
  return rest.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ""])));
}
