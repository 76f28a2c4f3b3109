/**
 * What the send suite sends: the sample newsletter (its config, subject with
 * a field, preheader) with a body grown to a message of about 5 KB, a config
 * whose limits do not throttle a loopback run (rate 10,000/s, the schema's
 * maximum; no canary), one of our composed messages (smtp-source sends its
 * bytes), and the same content as a plain template for the bare baseline.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { FsHistory } from "../src/ledger/fs-history.ts";
import { FsRepo } from "../src/load/fs-repo.ts";
import { compileBody, type Slotted } from "../src/render/body.ts";
import { makePlan } from "../src/send/plan.ts";
import { prepareNewsletter } from "../src/send/prepare.ts";
import { fingerprint } from "../src/address/mask.ts";
import { listedKeysOf, listRows, type ListRow } from "../src/send/recipients.ts";
import { customer } from "../test/helpers/incident.ts";
import { SAMPLE_DIR, SAMPLE_ROOT, writeRepo } from "./lib/fixture.ts";
import type { BareTemplate } from "./send-bare.ts";

/** NEWSLETTER_SECRET for the bench runs (32 hex characters; not a real key). */
export const SECRET = "bench-secret-0123456789abcdef0123";

const WORDS = "export region project plan storage faster update backup secure team invoice report dashboard latency cluster archive quota".split(" ");

/** Deterministic prose: `n` words. */
function prose(n: number, seed: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[(i * 7 + seed * 13 + ((i * i) % 5)) % WORDS.length]!);
  const s = out.join(" ");
  return `${s[0]!.toUpperCase()}${s.slice(1)}.`;
}

/** The sample body and two more paragraphs that use both fields: a message of about 5 KB. */
export function benchBody(): string {
  const sample = readFileSync(path.join(SAMPLE_ROOT, SAMPLE_DIR, "body.md"), "utf8").trimEnd();
  return `${sample}\n\n## More news\n\n${prose(45, 1)}\n\n${prose(40, 2)}\n\nThanks, {{ first_name }}, for being on the {{ plan }} plan.\n`;
}

/**
 * The send benches' repository at `root`: `rows` generated customers
 * (`email,first_name,plan`, reserved domains), the bench body and config.
 */
export async function writeSendRepo(root: string, rows: number, connections: number): Promise<void> {
  await writeRepo({
    root,
    listHeader: "email,first_name,plan",
    listRows: rows,
    listRow: (i) => {
      const c = customer(i);
      return `${c.email},${c.first_name},${c.plan}`;
    },
    body: benchBody(),
  });
  writeFileSync(path.join(root, ".github/newsletter.yml"), benchConfig(connections));
}

export function benchConfig(connections: number): string {
  const sample = readFileSync(path.join(SAMPLE_ROOT, ".github/newsletter.yml"), "utf8");
  return sample.replace(/sending:[\s\S]*$/, `sending:\n  rate_per_second: 10000\n  connections: ${connections}\n  max_failure_rate: 0.05\n`);
}

/** The bench newsletter at `root` checked and planned as `send` does, and its list's rows. */
export async function benchPlan(root: string): Promise<{ plan: ReturnType<typeof makePlan>; rows: ListRow[] }> {
  const prepared = await prepareNewsletter({ repo: new FsRepo(root), history: new FsHistory(path.join(root, ".newsletter-state")) }, SAMPLE_DIR);
  const c = prepared.checked;
  const supp = c.suppressions?.addresses ?? new Set<string>();
  const listed = listedKeysOf(prepared.listBytes, c.list.file, supp, (a) => fingerprint(a, SECRET));
  const plan = makePlan({ id: c.id, config: c.config, meta: c.meta, body: c.body, digest: c.digest, secret: SECRET, date: new Date(), listed });
  return { plan, rows: [...listRows(prepared.listBytes, c.list.file, new Set())] };
}

/** One recipient's message exactly as `send` composes it (the first row of the list). */
export async function messageSample(root: string): Promise<{ raw: Buffer }> {
  const { plan, rows } = await benchPlan(root);
  const r = rows[0];
  if (!r) throw new Error("the bench list is empty");
  return { raw: plan.messageFor(r.address, r.row).raw };
}

/** A slotted part back as a template with `{{ field }}` where each value goes. */
function unslot(s: Slotted): string {
  return s.parts.map((p) => (typeof p === "string" ? p : `{{ ${p.field} }}`)).join("");
}

/** The same content for the bare baseline: body, footer (as plan.ts adds it), subject, sender and list headers. */
export function bareTemplate(root: string): BareTemplate {
  const read = (rel: string) => readFileSync(path.join(root, rel), "utf8");
  const body = read(`${SAMPLE_DIR}/body.md`);
  const subject = /^subject:\s*"(.*)"\s*$/m.exec(read(`${SAMPLE_DIR}/newsletter.yml`))?.[1] ?? "The winter update";
  const unsubscribeUrl = "https://corp.example/unsubscribe?u={{ unsubscribe_token }}";
  const footer = `\n\n---\n\n[Unsubscribe](${unsubscribeUrl})\n\nExample Corp, 1\\-2\\-3 Chiyoda, Tokyo\n`;
  const compiled = compileBody(`${body.trimEnd()}${footer}`, { preheader: "Faster exports, a new Tokyo region, and what is next." });
  return {
    from: "Example Corp News <news@corp.example>",
    replyTo: "support@corp.example",
    listId: "product-news.corp.example",
    unsubscribeUrl,
    unsubscribeMailto: "mailto:unsubscribe@corp.example?subject=unsubscribe",
    subject,
    html: unslot(compiled.html),
    text: unslot(compiled.text),
  };
}
