/**
 * `send <dir>`: the real send. Re-checks, verifies the digest, opens the
 * ledger, sends one guarded message per recipient, and maps the outcome to
 * the contract's exit codes (0, 1, 3, 4, 130, 143).
 */
import path from "node:path";
import { mask } from "../../address/mask.ts";
import { RefusedError } from "../../errors.ts";
import { guardMessage } from "../../guard/guard.ts";
import { FsHistory } from "../../ledger/fs-history.ts";
import { FsLedgerStore, ledgerPath } from "../../ledger/fs-store.ts";
import { Ledger } from "../../ledger/ledger.ts";
import { FsRepo } from "../../load/fs-repo.ts";
import { Halt } from "../../send/halt.ts";
import { runPipeline, type Progress, type SendItem } from "../../send/pipeline.ts";
import { makePlan } from "../../send/plan.ts";
import { prepareNewsletter } from "../../send/prepare.ts";
import { inShard, listRows, shardName } from "../../send/recipients.ts";
import { resolveSecret } from "../../send/secret.ts";
import { formatSendSummary, sendExitCode } from "../../send/summary.ts";
import { createTransportFromEnv } from "../../transport/select.ts";
import type { CliInput } from "../args.ts";
import type { Io } from "../io.ts";
import { stateDir } from "./check.ts";
import { formatProgress } from "./progress.ts";
import { reportRefusal } from "./refusal.ts";

export async function runSendCommand(input: Extract<CliInput, { command: "send" }>, io: Io): Promise<number> {
  if (input.requireApproval) {
    // Fail closed: the approval gate (issue D) is not part of this build yet.
    throw new RefusedError("--require-approval: the approval gate is not available in this build; refusing to send");
  }
  const repo = new FsRepo(input.root);
  const state = stateDir(input.root, io);
  const prepared = await reportRefusal(io, () =>
    prepareNewsletter({ repo, history: new FsHistory(state) }, input.dir, input.expectDigest ? { expectDigest: input.expectDigest } : {}),
  );
  const { checked } = prepared;
  const smtp = Boolean(io.env.NEWSLETTER_SMTP_URL);
  const { secret, development } = resolveSecret(io.env, smtp);
  if (development) io.err("newsletter: NEWSLETTER_SECRET is not set: using the development key (outbox only)\n");

  const shard = shardName(input.shard);
  const now = new Date();
  const plan = makePlan({ id: checked.id, config: checked.config, meta: checked.meta, body: checked.body, digest: checked.digest, secret, date: now });
  const suppressions = checked.suppressions?.addresses ?? new Set<string>();

  // Materialise this shard's recipients: fingerprints are needed up front for the count.
  const mine: Array<{ address: string; row: Record<string, string>; fp: string }> = [];
  for (const r of listRows(prepared.listBytes, checked.list.file, suppressions)) {
    const fp = plan.fingerprintOf(r.address);
    if (inShard(fp, input.shard)) mine.push({ ...r, fp });
  }

  const ledger = await Ledger.open(
    new FsLedgerStore(ledgerPath(state, checked.id, shard)),
    { id: checked.id, list: checked.meta.recipients, listRows: checked.list.valid, digest: checked.digest, shard, count: mine.length, secret, now: () => new Date() },
    { readOnly: input.dryRun },
  );

  const sending = checked.config.sending;
  const transport = input.dryRun
    ? { name: "dry run", deliver: () => Promise.reject(new Error("this call must not happen")), close: async () => {} }
    : createTransportFromEnv(io.env, "send", { outboxDir: path.join(input.root, "outbox", checked.id), connections: sending.connections });

  const halt = new Halt();
  const onSignal = (signal: "SIGINT" | "SIGTERM") => () => {
    io.err(`\nnewsletter: ${signal}: no new messages; waiting for those in flight\n`);
    halt.stop({ kind: "signal", signal });
  };
  const onInt = onSignal("SIGINT");
  const onTerm = onSignal("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);

  const items: SendItem[] = [];
  // Monitors get the canary's message first (rendered from the first row's fields, to their own address).
  const canary = sending.canary && (!input.shard || input.shard.index === 1) ? sending.canary : undefined;
  const first = mine[0];
  if (canary && first) {
    for (const m of canary.monitors) {
      const address = m.toLowerCase();
      items.push({ fp: plan.fingerprintOf(address), masked: mask(address), build: () => plan.messageFor(address, first.row) });
    }
  }
  for (const r of mine) items.push({ fp: r.fp, masked: mask(r.address), build: () => plan.messageFor(r.address, r.row) });

  try {
    const result = await runPipeline(
      items,
      {
        transport,
        ledger,
        guard: guardMessage,
        onProgress: (p) => io.err(formatProgress(p, io.isTTY)),
        onCanaryPause: (sent, ms) =>
          io.err(`newsletter: canary of ${sent} sent; pausing ${Math.round(ms / 1000)} s — cancel the run now to stop the send\n`),
      },
      {
        rate: sending.rate_per_second,
        maxInFlight: sending.connections * 2,
        batchSize: Math.max(sending.connections * 2, 10),
        maxFailureRate: sending.max_failure_rate,
        resendInDoubt: input.resendInDoubt,
        dryRun: input.dryRun,
        total: items.length,
        progressEveryMs: 5000,
        ...(canary && canary.size > 0 ? { canary: { size: canary.size + canary.monitors.length, pauseMs: canary.pause_seconds * 1000 } } : {}),
      },
      halt,
    );
    io.out(formatSendSummary(result, { id: checked.id, shard, transport: transport.name, dryRun: input.dryRun }));
    return sendExitCode(result);
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    await ledger.close();
    await transport.close();
  }
}
