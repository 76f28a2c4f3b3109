/**
 * The send suite's baseline, run as its own process: what a careful user
 * writes with nodemailer alone — read the list, fill a template per
 * recipient (HTML-escaped in the HTML part), `sendMail` it through a pooled
 * transport with the same connection count, at most IN_FLIGHT at once (all
 * at once would double the memory). No checks, no guard, no
 * ledger; nodemailer builds the MIME (RFC 2045 quoted-printable, RFC 2047
 * subject) per message.
 *
 *   node --import tsx bench/send-bare.ts PORT CONNECTIONS LIST.csv TEMPLATE.json
 *
 * Prints `sent N` and exits 0, or exits 1 at the first failure.
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import nodemailer from "nodemailer";

export interface BareTemplate {
  from: string;
  replyTo: string;
  listId: string;
  unsubscribeUrl: string;
  unsubscribeMailto: string;
  subject: string;
  /** With `{{ field }}` placeholders. */
  html: string;
  text: string;
}

const IN_FLIGHT = 20;
const HTML_SPECIAL = /[&<>"']/g;
const ENTITY: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function fill(template: string, values: Record<string, string>, html: boolean): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k: string) => {
    const v = values[k] ?? "";
    return html ? v.replace(HTML_SPECIAL, (c) => ENTITY[c]!) : v;
  });
}

async function main(): Promise<number> {
  const [portArg, connArg, listFile, templateFile] = process.argv.slice(2);
  if (!portArg || !connArg || !listFile || !templateFile) {
    process.stderr.write("usage: send-bare.ts PORT CONNECTIONS LIST.csv TEMPLATE.json\n");
    return 2;
  }
  const t = JSON.parse(readFileSync(templateFile, "utf8")) as BareTemplate;
  const lines = readFileSync(listFile, "utf8").split("\n").filter((l) => l.length > 0);
  const header = lines[0]!.split(",");
  const rows = lines.slice(1);

  const transport = nodemailer.createTransport({
    pool: true,
    host: "127.0.0.1",
    port: Number(portArg),
    maxConnections: Number(connArg),
    maxMessages: 1000,
    logger: false,
  });
  let next = 0;
  let sent = 0;
  const one = async (): Promise<void> => {
    while (next < rows.length) {
      const fields = rows[next++]!.split(",");
      const values: Record<string, string> = {};
      header.forEach((h, k) => (values[h] = fields[k] ?? ""));
      values.unsubscribe_token = createHmac("sha256", "bench").update(values.email!).digest("hex").slice(0, 32);
      const unsubscribe = fill(t.unsubscribeUrl, values, false);
      values.unsubscribe_url = unsubscribe;
      await transport.sendMail({
        from: t.from,
        replyTo: t.replyTo,
        to: values.email,
        subject: fill(t.subject, values, false),
        html: fill(t.html, values, true),
        text: fill(t.text, values, false),
        list: { id: t.listId, unsubscribe: [unsubscribe, t.unsubscribeMailto] },
        headers: { "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" },
      });
      sent++;
    }
  };
  try {
    await Promise.all(Array.from({ length: IN_FLIGHT }, one));
  } finally {
    transport.close();
  }
  process.stdout.write(`sent ${sent}\n`);
  return sent === rows.length ? 0 : 1;
}

process.exitCode = await main();
