/**
 * `send <dir>`: the real send. Re-checks, verifies the digest, opens the
 * ledger, sends one guarded message per recipient, and maps the outcome to
 * the contract's exit codes (0, 1, 3, 4, 130, 143).
 */
import path from "node:path";
import { mask } from "../../address/mask.ts";
import { NewsletterError, RefusedError } from "../../errors.ts";
import { guardMessage } from "../../guard/guard.ts";
import { FsHistory } from "../../ledger/fs-history.ts";
import { Ledger } from "../../ledger/ledger.ts";
import { FsRepo } from "../../load/fs-repo.ts";
import { Halt, stopOnSignals } from "../../send/halt.ts";
import { runPipeline, type Progress, type SendItem } from "../../send/pipeline.ts";
import { BuildPool, composeThreads } from "../../send/build-pool.ts";
import { makePlan, type PlanInput } from "../../send/plan.ts";
import { dkimFromEnv, senderDomain } from "../../send/dkim-env.ts";
import { prepareNewsletter, type Prepared } from "../../send/prepare.ts";
import { shardName, shardRecipients } from "../../send/recipients.ts";
import { resolveSecret } from "../../send/secret.ts";
import { formatSendSummary, sendExitCode } from "../../send/summary.ts";
import { refuseForgottenSend } from "../../audit/begun.ts";
import { ledgerPath } from "../../ledger/fs-store.ts";
import { openLedgerPlace, stateSettingsFromEnv, type StateSettings } from "../../state/from-env.ts";
import { protectionRequired, verifyStateProtection } from "../../state/protection.ts";
import { createTransportFromEnv } from "../../transport/select.ts";
import type { CliInput } from "../args.ts";
import type { Io } from "../io.ts";
import { stateDir } from "./deps.ts";
import { formatProgress } from "./progress.ts";
import { reportRefusal } from "./refusal.ts";

/**
 * `--require-approval`: the gate for the commit being sent (GITHUB_SHA), before
 * anything else. Not approved, or the gate could not decide → refused (exit 1).
 */
async function requireApproval(io: Io): Promise<void> {
  const sha = io.env.GITHUB_SHA;
  if (!sha || !/^[0-9a-f]{40}$/.test(sha)) throw new RefusedError("--require-approval needs GITHUB_SHA (the commit being sent)");
  // Loaded only here: the GitHub client (@octokit) costs a noticeable part of startup that a send without
  // --require-approval (local, the benchmark) would pay for nothing.
  const { gateFromEnv } = await import("./gate.ts");
  const { formatGateReport, gateStatusLine } = await import("../../gate/report.ts");
  let verdict;
  try {
    verdict = await gateFromEnv(io.env, { sha });
  } catch (e) {
    if (e instanceof NewsletterError) throw new RefusedError(`refused: the approval gate failed closed: ${e.message}`, { cause: e });
    throw e;
  }
  io.err(`${formatGateReport(verdict.result)}\n`);
  if (!verdict.result.approved) throw new RefusedError(`refused: ${gateStatusLine(verdict.result)}`);
}

/**
 * A real relay needs a decision about approval (docs/design.md, "Trust boundary"): the gate
 * (`--require-approval`), or `--without-approval`, said out loud. The incident this tool exists
 * for began with a hand-run send.
 */
function approvalMode(input: Extract<CliInput, { command: "send" }>, io: Io): "gate" | "none" | undefined {
  const relay = Boolean(io.env.NEWSLETTER_SMTP_URL) && !input.dryRun;
  if (input.requireApproval) return "gate";
  if (input.withoutApproval) {
    io.err(
      "newsletter: WARNING: --without-approval: sending WITHOUT the approval gate. No three approvals are checked; " +
        "the ledger (and the audit record) note that this send was not approved.\n",
    );
    return "none";
  }
  if (relay) {
    throw new RefusedError(
      "refused: NEWSLETTER_SMTP_URL is set, so this would mail the real list, but neither --require-approval (the approval gate, as the send workflow runs it) " +
        "nor --without-approval (a deliberate send without approvals, warned and recorded) was given. Nothing is sent.",
    );
  }
  return undefined;
}

/** Before the first message: the state branch's protection (on GitHub), and no forgotten send. */
async function guardState(io: Io, settings: StateSettings, id: string, shard: string): Promise<void> {
  if (settings.branch !== null && protectionRequired(io.env as NodeJS.ProcessEnv)) {
    const { branchRuleTypesFromEnv } = await import("./state-rules.ts");
    await verifyStateProtection(settings.branch.name, branchRuleTypesFromEnv(io.env));
  }
  refuseForgottenSend(settings.dir, id, ledgerPath(settings.dir, id, shard));
}

export async function runSendCommand(input: Extract<CliInput, { command: "send" }>, io: Io): Promise<number> {
  const approval = approvalMode(input, io);
  if (input.requireApproval) await requireApproval(io);
  const repo = new FsRepo(input.root);
  const state = stateDir(input.root, io);
  // The state branch (when configured) is opened and fetched first: the history of earlier sends
  // that the checks compare the list with is the branch's, not whatever this runner has on disk.
  const settings = stateSettingsFromEnv(io.env, state);
  const place = await openLedgerPlace(settings);
  // What the send needs of the checks' results, and nothing more: their index of the list (a
  // million addresses at a million rows) would otherwise stay alive for the whole send.
  const { checked, listBytes } = sendInputs(
    await reportRefusal(io, () =>
      prepareNewsletter({ repo, history: new FsHistory(state) }, input.dir, input.expectDigest ? { expectDigest: input.expectDigest } : {}),
    ),
  );
  const smtp = Boolean(io.env.NEWSLETTER_SMTP_URL);
  const { secret, development } = resolveSecret(io.env, smtp);
  if (development) io.err("newsletter: NEWSLETTER_SECRET is not set: using the development key (outbox only)\n");

  const shard = shardName(input.shard);
  await guardState(io, settings, checked.id, shard);
  const now = new Date();
  const dkim = dkimFromEnv(io.env, senderDomain(checked.config.sender.from));
  const planInput: PlanInput = { id: checked.id, config: checked.config, meta: checked.meta, body: checked.body, digest: checked.digest, secret, date: now, ...(dkim ? { dkim } : {}) };
  const plan = makePlan(planInput);
  const suppressions = checked.suppressions?.addresses ?? new Set<string>();

  // Two passes over the list bytes, never an array of every row: the first counts this shard's
  // recipients (the ledger's begin record needs the count), the second streams them to the loop.
  const recipients = shardRecipients(listBytes, checked.list.file, suppressions, input.shard, plan.fingerprintOf);
  // A compose thread on a machine with a second core and a big enough list, unless
  // NEWSLETTER_COMPOSE_THREADS says otherwise (build-pool.ts says why).
  const threads = composeThreads(io.env, recipients.count);
  const sending = checked.config.sending;
  const transport = input.dryRun
    ? { name: "dry run", deliver: () => Promise.reject(new Error("this call must not happen")), close: async () => {} }
    : createTransportFromEnv(io.env, "send", { outboxDir: path.join(input.root, "outbox", checked.id), connections: sending.connections });
  // The relay proved before anything is claimed: unreachable, refusing or refusing our credentials
  // is one line and exit 1, not a claim and a failure per recipient.
  try {
    await transport.preflight?.();
  } catch (e) {
    await transport.close();
    throw e;
  }
  const pool = threads > 0 ? new BuildPool(planInput, threads) : null;
  const ledger = await Ledger.open(
    place.storeFor(checked.id, shard),
    { id: checked.id, list: checked.meta.recipients, listRows: checked.list.valid, digest: checked.digest, shard, count: recipients.count, secret, now: () => new Date(), ...(approval ? { approval } : {}) },
    { readOnly: input.dryRun },
  );

  const halt = new Halt();
  const unhook = stopOnSignals(halt, { cut: () => transport.abort?.() ?? 0, say: (line) => io.err(line) });

  // Monitors get the canary's message first (rendered from the first row's fields, to their own address).
  const canary = sending.canary && (!input.shard || input.shard.index === 1) ? sending.canary : undefined;
  const first = recipients.first;
  const monitors: SendItem[] = [];
  if (canary && first) {
    for (const m of canary.monitors) {
      const address = m.toLowerCase();
      const fp = plan.fingerprintOf(address);
      monitors.push({ fp, masked: mask(address), build: () => plan.messageFor(address, first.row, fp), recipient: { address, row: first.row } });
    }
  }
  function* items(): Generator<SendItem> {
    yield* monitors;
    for (const r of recipients.rows()) {
      yield { fp: r.fp, masked: mask(r.address), build: () => plan.messageFor(r.address, r.row, r.fp), recipient: r };
    }
  }
  const connections = sending.connections;

  let sendFailed = true;
  try {
    const result = await runPipeline(
      items(),
      {
        transport,
        ledger,
        guard: guardMessage,
        ...(pool ? { buildGroup: pool.build } : {}),
        onProgress: (p) => io.err(formatProgress(p, io.isTTY)),
        onCanaryPause: (sent, ms) =>
          io.err(`newsletter: canary of ${sent} sent; pausing ${Math.round(ms / 1000)} s — cancel the run now to stop the send\n`),
      },
      {
        rate: sending.rate_per_second,
        // Claimed without an outcome, at most: what a crash can leave in doubt — no more than the
        // batch + in flight of before (40 for 5 connections). Claims go in groups of half that, so one
        // is on the wire while the next is made durable; claims made during one fsync share the next.
        ...claimWindow(settings.branch !== null, connections, monitors.length + recipients.count),
        maxFailureRate: sending.max_failure_rate,
        resendInDoubt: input.resendInDoubt,
        dryRun: input.dryRun,
        total: monitors.length + recipients.count,
        progressEveryMs: 5000,
        ...(canary && canary.size > 0 ? { canary: { size: canary.size + canary.monitors.length, pauseMs: canary.pause_seconds * 1000 } } : {}),
      },
      halt,
    );
    io.out(formatSendSummary(result, { id: checked.id, shard, transport: transport.name, dryRun: input.dryRun }));
    sendFailed = false;
    return sendExitCode(result);
  } finally {
    unhook();
    // Each is closed even when another fails (a ledger that cannot push its last outcomes must not
    // leave SMTP connections open, keeping the process alive until the server times them out);
    // the first failure is raised after all are closed, unless one is already on its way.
    const closed = await Promise.allSettled([pool?.close(), ledger.close(), transport.close()]);
    const failed = closed.find((c): c is PromiseRejectedResult => c.status === "rejected");
    if (failed && !sendFailed) throw failed.reason;
  }
}

/**
 * Claim groups and the in-flight bound: what a crash can leave in doubt.
 * Local ledger: batch + in flight of before, 8 per connection (40 for 5),
 * claims in groups of half that, so one is on the wire while the next is
 * made durable. Why 8 and not 4: with 2 per connection queued behind the
 * one on the wire, connections ran dry between groups and wrote each
 * envelope apart from the data before it (a second syscall per message);
 * 8 was faster than 4, and 16 or 32 no faster still (bench/README.md, "Figures behind the code").
 * A crash leaves at most 40 in doubt.
 * On a state branch each group is a git push (a network round trip), so
 * groups of 10 would cap the rate near 10 msg/s; they grow with the list
 * (1 %, 10–250), which keeps a million-recipient send at hundreds of msg/s
 * while a lost runner leaves at most two groups in doubt (≤ 2 % of the list,
 * ≤ 500 recipients). A halt by signal flushes, and leaves none.
 */
export function claimWindow(onBranch: boolean, connections: number, total: number): { batchSize: number; maxInFlight: number } {
  if (!onBranch) return { batchSize: Math.max(connections * 4, 10), maxInFlight: Math.max(connections * 8, 20) };
  const batchSize = Math.min(250, Math.max(10, Math.ceil(total / 100), connections * 2));
  return { batchSize, maxInFlight: batchSize * 2 };
}

/** The checked newsletter without the list's address index (the checks are done with it). */
function sendInputs(p: Prepared) {
  const c = p.checked;
  return {
    listBytes: p.listBytes,
    checked: {
      id: c.id,
      config: c.config,
      meta: c.meta,
      body: c.body,
      digest: c.digest,
      suppressions: c.suppressions,
      list: { file: c.list.file, valid: c.list.valid },
    },
  };
}
