/**
 * `status <dir> [--format json]`: where a newsletter stands, from its
 * ledgers (every shard) and its schedule, in the words of the progress line
 * and the summary (src/send/vocabulary.ts).
 *
 * json: {"id","state","destination","send_after","total","sent","failed","retryable","in_doubt",
 * "remaining","complete","continue","shards","in_doubt_recipients","matrix"}; `matrix` lists the
 * `--shard` values of `sending.shards` (["all"] for one job). `destination` says where
 * the mail went: "relay" (a real send's ledger in the state folder), "outbox" (a trial's, beside
 * the messages in outbox/), or null before any send (README.md, "Sending").
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { fingerprint, mask } from "../../address/mask.ts";
import { checkNewsletters } from "../../check/check-newsletters.ts";
import { messageIdFor } from "../../compose/ids.ts";
import { UnreadableInputError } from "../../errors.ts";
import { FsLedgerStore, TRIAL_LEDGER_DIR } from "../../ledger/fs-store.ts";
import { parseLedger } from "../../ledger/records.ts";
import { countLedger, foldLedger, inDoubt } from "../../ledger/state.ts";
import { needsContinuation, shardMatrix, type ShardEnd } from "../../send/continuation.ts";
import { senderDomain } from "../../send/dkim-env.ts";
import { scheduleOf } from "../../send/schedule.ts";
import { DEVELOPMENT_SECRET } from "../../keys/secret.ts";
import { WORDS, type Destination } from "../../send/vocabulary.ts";
import type { CliInput } from "../args.ts";
import { clockOf, type Io } from "../../runtime/io.ts";
import { commandDeps, stateDir } from "../../wiring/deps.ts";

interface InDoubtEntry {
  message_id: string | null;
  masked: string | null;
  fingerprint: string;
}

export async function runStatusCommand(input: Extract<CliInput, { command: "status" }>, io: Io): Promise<number> {
  if (input.address !== undefined) {
    return (await import("./status-address.ts")).runAddressStatus(input.root, input.dir, input.address, input.format, io);
  }
  const state = stateDir(input.root, io);
  const outcome = await checkNewsletters(commandDeps(input.root, io), [input.dir]);
  const n = outcome.newsletters[0];
  if (!n?.list) {
    throw new UnreadableInputError(input.dir, `status: cannot read the list of ${input.dir}; run \`check ${input.dir}\``);
  }
  const relayDir = path.join(state, "ledger", n.id);
  const trialDir = path.join(input.root, "outbox", TRIAL_LEDGER_DIR, n.id);
  const relayFiles = await ledgerFiles(relayDir);
  const destination: Destination | null = relayFiles.length ? "relay" : (await ledgerFiles(trialDir)).length ? "outbox" : null;
  const dir = destination === "outbox" ? trialDir : relayDir;
  const files = destination === "outbox" ? await ledgerFiles(trialDir) : relayFiles;

  let sent = 0, failed = 0, inDoubtCount = 0, retryable = 0;
  const shards: ShardEnd[] = [];
  const doubtFps: string[] = [];
  for (const f of files) {
    const s = foldLedger(parseLedger(await new FsLedgerStore(path.join(dir, f)).read(), f));
    const c = countLedger(s);
    sent += c.sent; failed += c.failed; inDoubtCount += c.inDoubt; retryable += c.retryable;
    const end = s.ends.at(-1);
    shards.push({ shard: f.replace(/\.jsonl$/, ""), ended: end?.outcome ?? null, ...(end?.detail ? { detail: end.detail } : {}) });
    doubtFps.push(...inDoubt(s));
  }
  // Less the suppression store as the checks matched it (suppress/apply.ts).
  const total = n.list.sendCount - (n.storeCounts?.suppressed ?? 0);
  // Every shard's loop went through all of its recipients: nobody is left, whatever the count says
  // (the store may hold entries this job cannot match without the send's key, or grew since).
  const ranThrough = files.length === shardMatrix(n.config?.sending.shards).length && shards.every((s) => s.ended === "completed");
  // Monitors of a canary are in the ledger but not in the list: clamp rather than go negative.
  const remaining = ranThrough ? 0 : Math.max(0, total - sent - failed - inDoubtCount);
  const complete = remaining === 0 && inDoubtCount === 0 && retryable === 0 && files.length > 0;
  const schedule = n.meta ? scheduleOf(n.meta, clockOf(io)()) : null;
  const stateWord = complete
    ? "complete"
    : files.length
      ? "incomplete"
      : schedule?.state === "cancelled"
        ? "cancelled"
        : schedule?.state === "scheduled"
          ? "scheduled"
          : "not started";
  const doubts = doubtFps.length ? inDoubtEntries(doubtFps, n, destination, io) : [];
  const cont = needsContinuation(shards) && !complete;

  if (input.format === "json") {
    io.out(
      `${JSON.stringify({
        id: n.id, state: stateWord, destination, send_after: n.meta?.send_after ?? null, cancelled: n.meta?.cancelled === true,
        total, sent, failed, retryable, in_doubt: inDoubtCount, remaining, complete, continue: cont, shards, in_doubt_recipients: doubts,
        // The send workflow's matrix (`--shard` values) from sending.shards.
        matrix: shardMatrix(n.config?.sending.shards),
      })}\n`,
    );
    return 0;
  }
  const where = destination === "outbox" ? `  to the outbox folder outbox/${n.id} (a trial: nothing went to a relay)\n` : destination === "relay" ? "  to the relay (a real send)\n" : "";
  const when = n.meta?.send_after && !files.length ? `  send_after ${n.meta.send_after}\n` : "";
  io.out(
    `${n.id}: ${stateWord}\n${where}${when}` +
      `  total ${total}  ${WORDS.sent} ${sent}  ${WORDS.failed} ${failed}  ${WORDS.retryable} ${retryable}  ${WORDS.inDoubt} ${inDoubtCount}  ${WORDS.remaining} ${remaining}\n` +
      shards.map((s) => `  shard ${s.shard}: ${s.ended ?? "running or killed"}${s.detail ? ` (${s.detail})` : ""}\n`).join("") +
      (cont ? "  its time budget was spent: run the same send again to continue\n" : "") +
      (doubts.length ? `  ${WORDS.inDoubt} (Message-ID, address, fingerprint): look each up in the relay's log\n` : "") +
      doubts.map((d) => `    ${d.message_id ? `<${d.message_id}>` : "(Message-ID needs NEWSLETTER_SECRET)"}  ${d.masked ?? "?"}  ${d.fingerprint.slice(0, 12)}\n`).join(""),
  );
  return 0;
}

async function ledgerFiles(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith(".jsonl")).sort();
}

/**
 * Each recipient in doubt by Message-ID (what the relay's log shows), masked
 * address and fingerprint. Both need the key: NEWSLETTER_SECRET for a real
 * send, the development key for a trial; without it only fingerprints.
 */
function inDoubtEntries(
  fps: readonly string[],
  n: { id: string; config: { sender: { from: string } } | null; list: { addresses: Iterable<string> } | null },
  destination: Destination | null,
  io: Io,
): InDoubtEntry[] {
  const secret = io.env.NEWSLETTER_SECRET || (destination === "outbox" ? DEVELOPMENT_SECRET : "");
  if (!secret || !n.config) return fps.map((fp) => ({ message_id: null, masked: null, fingerprint: fp }));
  const want = new Set(fps);
  const masked = new Map<string, string>();
  for (const a of n.list?.addresses ?? []) {
    const fp = fingerprint(a, secret);
    if (want.has(fp)) masked.set(fp, mask(a));
    if (masked.size === want.size) break;
  }
  const domain = senderDomain(n.config.sender.from);
  return fps.map((fp) => ({ message_id: messageIdFor(secret, n.id, fp, domain), masked: masked.get(fp) ?? null, fingerprint: fp }));
}
