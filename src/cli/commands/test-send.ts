/**
 * `test-send <dir> [--to EMAIL...]`: the approval copy (docs/design.md, "Why it exists"):
 * the production message with the production list already bound, marked as
 * an approval copy, to each approver — through the same plan, composer and
 * guard as `send`, over NEWSLETTER_TEST_SMTP_URL (falling back to
 * NEWSLETTER_SMTP_URL, then the outbox). Writes the Message-IDs to the state
 * folder for the audit record.
 *
 * `--to` may only name approvers' or allowlisted addresses: a "test send" to
 * a customer is how the incident began.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fingerprint, mask } from "../../address/mask.ts";
import { normaliseAddress } from "../../address/normalise.ts";
import { GuardAbortError, RefusedError, UsageError } from "../../errors.ts";
import { guardMessage } from "../../guard/guard.ts";
import { approvalBanner, riskyRows } from "../../send/approval-banner.ts";
import { makePlan } from "../../send/plan.ts";
import { dkimFromEnv, senderDomain } from "../../send/dkim-env.ts";
import { prepareNewsletter } from "../../send/prepare.ts";
import { guardListedKeys } from "../../send/recipients.ts";
import { bannerCounts, mailedRows } from "../../send/approval-copy.ts";
import { keyId } from "../../ledger/ledger.ts";
import { resolveSecret } from "../../keys/secret.ts";
import { createTransportFromEnv } from "../../transport/select.ts";
import type { CliInput } from "../args.ts";
import { commandDeps, stateDir } from "../../wiring/deps.ts";
import type { Io } from "../../runtime/io.ts";
import { reportRefusal } from "./refusal.ts";

export async function runTestSendCommand(input: Extract<CliInput, { command: "test-send" }>, io: Io): Promise<number> {
  const state = stateDir(input.root, io);
  const prepared = await reportRefusal(io, () =>
    prepareNewsletter(commandDeps(input.root, io), input.dir),
  );
  const { checked } = prepared;
  const config = checked.config;

  const approvers = new Map<string, string>(); // normalised address → login
  for (const [login, addr] of Object.entries(config.approvers)) {
    const n = normaliseAddress(addr);
    if (n) approvers.set(n, login);
  }
  const allowed = (a: string) =>
    approvers.has(a) ||
    config.leakage.allow_addresses.some((x) => normaliseAddress(x) === a) ||
    config.leakage.allow_domains.some((d) => a.endsWith(`@${d.toLowerCase()}`) || a.endsWith(`.${d.toLowerCase()}`));
  let to: string[];
  if (input.to.length > 0) {
    to = [];
    for (const raw of input.to) {
      const n = normaliseAddress(raw);
      if (!n) throw new UsageError(`--to ${mask(raw)} is not an address`);
      if (!allowed(n)) {
        throw new RefusedError(`--to ${mask(n)} is neither an approver nor allowlisted: approval copies go to approvers only`);
      }
      to.push(n);
    }
  } else {
    to = [...approvers.keys()];
  }
  if (to.length === 0) throw new RefusedError("no approvers: add `approvers:` (login: address) to .github/newsletter.yml or pass --to");

  const smtp = Boolean(io.env.NEWSLETTER_TEST_SMTP_URL || io.env.NEWSLETTER_SMTP_URL);
  const { secret } = resolveSecret(io.env, smtp, "NEWSLETTER_APPROVAL_SECRET");
  const rows = [...mailedRows(prepared)];
  const sample = rows[0];
  if (!sample) throw new RefusedError(`${checked.list.file} has no recipient to render an approval copy for`);
  const banner = approvalBanner({
    id: checked.id, list: checked.meta.recipients, ...bannerCounts(checked),
    digest: checked.digest, addresses: rows.map((r) => r.address), locale: config.sender.locale,
    risky: riskyRows(rows.map((r) => r.row), checked.placeholderColumns),
  });
  const at = new Date();
  const dkim = dkimFromEnv(io.env, senderDomain(config.sender.from));
  const key = { id: keyId(secret), fingerprintOf: (a: string) => fingerprint(a, secret) };
  const listed = guardListedKeys(prepared.listBytes, checked.list.file, checked.suppressions?.addresses ?? [], checked.storeSuppressions, key);
  const plan = makePlan({
    ...(dkim ? { dkim } : {}),
    listed,
    id: checked.id, config, meta: checked.meta, body: checked.body, digest: checked.digest, secret, date: at, approvalCopy: { banner }, layout: checked.layout,
  });

  const transport = createTransportFromEnv(io.env, "test", {
    outboxDir: path.join(input.root, "outbox", "approval", checked.id),
    connections: 1,
  });
  const sent: Array<{ login: string | null; masked: string; message_id: string }> = [];
  let failures = 0;
  try {
    for (const addr of to) {
      const out = plan.messageFor(addr, sample.row);
      const verdict = guardMessage(out.raw, out.envelope, out.guard);
      if (!verdict.ok) throw new GuardAbortError(`guard: ${verdict.reason} in ${verdict.where} (${verdict.masked}); no approval copy sent further`);
      const res = await transport.deliver(out.envelope, out.raw);
      if (res.ok) {
        sent.push({ login: approvers.get(addr) ?? null, masked: mask(addr), message_id: out.messageId });
        io.out(`approval copy to ${mask(addr)}: <${out.messageId}>\n`);
      } else {
        failures++;
        io.err(`newsletter: approval copy to ${mask(addr)} failed: ${res.message}\n`);
      }
    }
  } finally {
    await transport.close();
  }
  const record = { id: checked.id, digest: checked.digest, at: at.toISOString(), transport: transport.name, copies: sent };
  const file = path.join(state, "approval", `${checked.id}.json`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
  io.out(`digest ${checked.digest}; ${sent.length} approval cop${sent.length === 1 ? "y" : "ies"} sent via ${transport.name}\n`);
  return failures > 0 ? 1 : 0;
}
