/**
 * `send <dir>`: the real send. Re-checks, verifies the digest, opens the
 * ledger, sends one guarded message per recipient, and maps the outcome to
 * the contract's exit codes (0, 1, 3, 4, 130, 143).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fingerprint, mask } from "../../address/mask.ts";
import { NewsletterError, RefusedError, UsageError } from "../../errors.ts";
import { guardMessage } from "../../guard/guard.ts";
import { FsHistory } from "../../ledger/fs-history.ts";
import { FsLedgerStore, ledgerPath, TRIAL_LEDGER_DIR, trialLedgerPath } from "../../ledger/fs-store.ts";
import type { BeginRecord } from "../../ledger/history.ts";
import { keyId, Ledger } from "../../ledger/ledger.ts";
import { inDoubt } from "../../ledger/state.ts";
import { FsRepo } from "../../load/fs-repo.ts";
import { Halt, stopOnSignals } from "../../send/halt.ts";
import { runPipeline, type Progress, type SendItem } from "../../send/pipeline.ts";
import { BuildPool, composeThreads } from "../../send/build-pool.ts";
import { makePlan, type PlanInput } from "../../send/plan.ts";
import { dkimFromEnv, senderDomain } from "../../send/dkim-env.ts";
import { prepareNewsletter, type Prepared } from "../../send/prepare.ts";
import { guardListedKeys, shardName, shardRecipients } from "../../send/recipients.ts";
import { confirmedInDoubt, parseMessageIdList } from "../../send/confirmed.ts";
import { describeWhen, EXIT_SCHEDULED, scheduleOf } from "../../send/schedule.ts";
import { DEVELOPMENT_SECRET, resolveSecret } from "../../keys/secret.ts";
import { formatSendSummary, sendExitCode } from "../../send/summary.ts";
import { refuseForgottenSend } from "../../audit/begun.ts";
import { protectionRequired, verifyStateProtection } from "../../state/protection.ts";
import { WORDS, type Destination } from "../../send/vocabulary.ts";
import { gitBlobId, listSnapshot } from "../../state/list-snapshot.ts";
import { openLedgerPlace, stateSettingsFromEnv, type StateSettings } from "../../state/from-env.ts";
import { createTransportFromEnv } from "../../transport/select.ts";
import { objectStores } from "../../store/select.ts";
import type { CliInput } from "../args.ts";
import { clockOf, type Io } from "../../runtime/io.ts";
import { stateDir, suppressionKey, suppressionStore } from "../../wiring/deps.ts";
import { isAddressFailure } from "../../suppress/bounce.ts";
import { suppressionFilter } from "../../suppress/apply.ts";
import type { SuppressionStore } from "../../suppress/store.ts";
import type { PipelineResult } from "../../send/pipeline-types.ts";
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
  const { gateFromEnv } = await import("../../wiring/github.ts");
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
  const startedAt = Date.now();
  const approval = approvalMode(input, io);
  if (input.requireApproval) await requireApproval(io);
  const clock = clockOf(io);
  const repo = new FsRepo(input.root);
  const state = stateDir(input.root, io);
  // The state branch (when configured) is opened and fetched first: the history of earlier sends
  // that the checks compare the list with is the branch's, not whatever this runner has on disk.
  const settings = stateSettingsFromEnv(io.env, state);
  const place = await openLedgerPlace(settings);
  // What the send needs of the checks' results, and nothing more: their index of the list (a
  // million addresses at a million rows) would otherwise stay alive for the whole send.
  const prepared = sendInputs(
    await reportRefusal(io, () =>
      prepareNewsletter(
        {
          repo, history: new FsHistory(state), store: objectStores(input.root, io.env),
          suppressions: { open: (config) => suppressionStore(config, input.root, io), key: suppressionKey(io.env.NEWSLETTER_SECRET) },
        },
        input.dir, input.expectDigest ? { expectDigest: input.expectDigest } : {},
      ),
    ),
  );
  const { checked } = prepared;
  let listBytes = prepared.listBytes;
  const sending = checked.config.sending;
  checkShardSetting(input.shard, sending.shards, checked.begun);

  // docs/design.md, "Scheduling and continuation": nothing leaves before send_after; a dry run may.
  const schedule = scheduleOf(checked.meta, clock());
  if (schedule.state === "cancelled" && checked.begun.length === 0) {
    throw new RefusedError(`refused: ${checked.id} is cancelled (cancelled: true in newsletter.yml); nothing was sent`);
  }
  if (schedule.state === "scheduled" && !input.dryRun && checked.begun.length === 0) {
    io.out(`${checked.id}: scheduled: it will be sent at ${describeWhen(schedule.at, clock())}; nothing was sent now (exit ${EXIT_SCHEDULED})\n`);
    return EXIT_SCHEDULED;
  }

  const smtp = Boolean(io.env.NEWSLETTER_SMTP_URL);
  const destination: Destination = smtp ? "relay" : "outbox";
  const { secret, development } = resolveSecret(io.env, smtp);
  if (development) io.err("newsletter: NEWSLETTER_SECRET is not set: using the development key (outbox only)\n");

  const shard = shardName(input.shard);
  await guardState(io, settings, checked.id, shard);
  const dkim = dkimFromEnv(io.env, senderDomain(checked.config.sender.from));
  // The suppression store applies without approval: it only removes recipients, and is read again
  // by every run, a resumed one included: by the checks a moment ago, under this send's key, so the
  // counts the checks report are the ones applied here (docs/design.md, "Recipient data and suppressions").
  const suppressionsAt = suppressionStore(checked.config, input.root, io);
  const key = { id: keyId(secret), fingerprintOf: (a: string) => fingerprint(a, secret) };
  const stored = checked.store;
  if (stored?.key.id !== key.id) throw new Error("the suppression store was not read under the send's key");
  if (stored.set.otherKey > 0) {
    const n = stored.set.otherKey;
    io.err(`newsletter: ${n} suppression entr${n === 1 ? "y was" : "ies were"} made under another NEWSLETTER_SECRET and cannot be matched\n`);
  }
  const suppressions = suppressionFilter(stored, checked.suppressions?.addresses);
  // The guard's view of the list: every row, the CSV suppressions and the store's (docs/design.md, "The per-message guard").
  const listed = guardListedKeys(listBytes, checked.list.file, checked.suppressions?.addresses ?? [], stored, key);
  const planInput: PlanInput = { id: checked.id, config: checked.config, meta: checked.meta, body: checked.body, digest: checked.digest, secret, date: clock(), layout: checked.layout, listed, ...(dkim ? { dkim } : {}) };
  const plan = makePlan(planInput);

  // Two passes over the list bytes, never an array of every row: the first counts this shard's
  // recipients (the ledger's begin record needs the count), the second streams them to the loop.
  let recipients = shardRecipients(listBytes, checked.list.file, suppressions, input.shard, plan.fingerprintOf);
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
  // A trial (the outbox) keeps a ledger of its own beside its messages: never history, never in
  // the way of the real send (docs/design.md, "Sent at most once").
  const store = destination === "relay" ? place.storeFor(checked.id, shard) : new FsLedgerStore(trialLedgerPath(input.root, checked.id, shard));
  let ledger: Ledger;
  let confirmed = 0;
  try {
    ledger = await Ledger.open(
      store,
      {
        id: checked.id, list: checked.meta.recipients, listRows: checked.list.valid, digest: checked.digest, shard, count: recipients.count, secret, now: clock,
        inputs: { ...checked.own, list: checked.list.sha256, list_blob: gitBlobId(listBytes) }, ...(approval ? { approval } : {}),
        otherKeyHint: destination === "relay" ? relayKeyHint(secret) : `It is a trial's ledger (the outbox): delete ${path.join("outbox", TRIAL_LEDGER_DIR, checked.id)} to start the trial over`,
      },
      { readOnly: input.dryRun },
    );
  } catch (e) {
    await transport.close();
    throw e;
  }
  try {
    const snapshot = await resumeList(ledger, checked, listBytes, input.root, io);
    if (snapshot === "complete") {
      await Promise.allSettled([ledger.close(), transport.close()]);
      return 0;
    }
    if (snapshot !== null) {
      listBytes = snapshot;
      recipients = shardRecipients(listBytes, checked.list.file, suppressions, input.shard, plan.fingerprintOf);
    }
    if (input.deliveredFile) confirmed = await recordConfirmed(input.deliveredFile, ledger, plan, input.dryRun);
  } catch (e) {
    await Promise.allSettled([ledger.close(), transport.close()]);
    throw e;
  }

  // A compose thread on a machine with a second core and a big enough list, unless
  // NEWSLETTER_COMPOSE_THREADS says otherwise (build-pool.ts says why).
  const threads = composeThreads(io.env, recipients.count);
  const pool = threads > 0 ? new BuildPool(planInput, threads) : null;
  const halt = new Halt();
  const unhook = stopOnSignals(halt, { cut: () => transport.abort?.() ?? 0, say: (line) => io.err(line) });
  const budget = startTimeBudget(input.timeBudgetSec, startedAt, halt, io);

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
  const rows = recipients;
  function* items(): Generator<SendItem> {
    yield* monitors;
    for (const r of rows.rows()) {
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
        onProgress: (p) => io.err(formatProgress(p, io.isTTY, input.dryRun)),
        onCanaryPause: (sent, ms) =>
          io.err(`newsletter: canary of ${sent} sent; pausing ${Math.round(ms / 1000)} s — cancel the run now to stop the send\n`),
      },
      {
        rate: sending.rate_per_second,
        // Claimed without an outcome, at most: what a crash can leave in doubt — no more than the
        // batch + in flight of before (40 for 5 connections). Claims go in groups of half that, so one
        // is on the wire while the next is made durable; claims made during one fsync share the next.
        ...claimWindow(settings.branch !== null && destination === "relay", connections, monitors.length + recipients.count),
        maxFailureRate: sending.max_failure_rate,
        resendInDoubt: input.resendInDoubt,
        dryRun: input.dryRun,
        total: monitors.length + recipients.count,
        progressEveryMs: 5000,
        ...(canary && canary.size > 0 ? { canary: { size: canary.size + canary.monitors.length, pauseMs: canary.pause_seconds * 1000 } } : {}),
      },
      halt,
    );
    io.out(
      formatSendSummary(result, {
        id: checked.id, shard, transport: transport.name, dryRun: input.dryRun, messageIdOf: plan.messageIdOf,
        ...(input.dryRun ? {} : { destination }), ...(confirmed ? { confirmedDelivered: confirmed } : {}),
      }),
    );
    if (input.dryRun && schedule.state === "scheduled") io.out(`  scheduled: the real send will go at ${describeWhen(schedule.at, clock())}\n`);
    if (checked.config.recipient_data.suppress_permanent_failures && !input.dryRun) {
      const n = await suppressFailures(suppressionsAt, result, keyId(secret));
      if (n > 0) io.err(`newsletter: ${n} address${n === 1 ? "" : "es"} refused as nonexistent: suppressed in ${suppressionsAt.location}\n`);
    }
    sendFailed = false;
    return sendExitCode(result);
  } finally {
    budget.stop();
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
 * A resume after the list moved on (docs/design.md, "Sent at most once"):
 * what is left goes to the list the send began with (its snapshot), less the
 * newer suppressions, so nobody who signed up since gets this old
 * newsletter. Null: the list is the one the send began with (or it never
 * began); "complete": nothing is left, the list is not even needed.
 */
async function resumeList(
  ledger: Ledger,
  checked: { id: string; list: { file: string; sha256: string } },
  current: Uint8Array,
  root: string,
  io: Io,
): Promise<Uint8Array | "complete" | null> {
  const begin = ledger.state.begin;
  if (!begin?.inputs || begin.inputs.list === checked.list.sha256) return null;
  const c = ledger.counts();
  if (ledger.state.ends.at(-1)?.outcome === "completed" && c.retryable === 0 && c.inDoubt === 0) {
    io.out(`${checked.id} (${begin.shard}): already complete (${WORDS.sent} ${c.sent}, ${WORDS.failed} ${c.failed}); the list changed since, which does not concern this send; nothing to do\n`);
    return "complete";
  }
  const bytes = (await listSnapshot(root, checked.list.file, current, begin.inputs)).bytes;
  io.err(`newsletter: ${checked.list.file} changed since this send began: resuming with its list as it was then, less the suppressions of now\n`);
  return bytes;
}

/** A real send's ledger written with the development key came from a trial made before trials had their own. */
function relayKeyHint(secret: string): string {
  return secret === DEVELOPMENT_SECRET
    ? ""
    : `If it was written by a trial with the development key (an \`npm start\` before trials kept their own ledger, key id ${keyId(DEVELOPMENT_SECRET)}), move it out of the state folder; never move a real send's ledger`;
}

/**
 * `--time-budget SECONDS`: when it is spent the send stops as on SIGTERM (no
 * new message, those in flight finish, the ledger is written) and exits 75
 * (docs/design.md, "Scheduling and continuation"). Counted from the start of
 * the command, so the checks' time is inside the budget.
 */
function startTimeBudget(seconds: number | undefined, startedAt: number, halt: Halt, io: Io): { stop(): void } {
  if (seconds === undefined) return { stop() {} };
  const t = setTimeout(() => {
    if (!halt.halted) io.err(`\nnewsletter: the time budget of ${seconds} s is spent: no new messages; waiting for those in flight\n`);
    halt.stop({ kind: "budget", seconds });
  }, Math.max(0, seconds * 1000 - (Date.now() - startedAt)));
  t.unref();
  return { stop: () => clearTimeout(t) };
}

/**
 * `--resend-in-doubt=FILE`: each recipient in doubt whose Message-ID the
 * relay's log confirms is recorded as sent (with that Message-ID) before the
 * loop starts, so the loop skips it; the rest in doubt are resent.
 */
async function recordConfirmed(file: string, ledger: Ledger, plan: { messageIdOf(fp: string): string }, dryRun: boolean): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new UsageError(`--resend-in-doubt=${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const found = confirmedInDoubt(inDoubt(ledger.state), parseMessageIdList(text, file), plan.messageIdOf);
  if (!dryRun) for (const c of found) ledger.recordSent(c.fp, c.messageId);
  await ledger.flush();
  return found.length;
}

/**
 * `sending.shards: N` is the layout of every send under this config: `--shard`
 * must be I/N, and a send begun in other shards keeps its layout (a
 * recipient's shard depends on N: another N would mail some twice).
 */
function checkShardSetting(shard: { index: number; count: number } | null, configured: number | undefined, begun: readonly BeginRecord[]): void {
  const count = shard?.count ?? 1;
  if (configured !== undefined && configured !== count) {
    throw new UsageError(`sending.shards is ${configured} in the config: send with --shard I/${configured} (1 ≤ I ≤ ${configured}), one job each${configured === 1 ? ", or without --shard" : ""}`);
  }
  const other = begun.find((b) => b.shard !== undefined && shardCount(b.shard) !== count);
  if (other) {
    throw new RefusedError(`refused: this send began in shards (${other.shard}); keep the same layout until it is complete (a recipient's shard depends on the count)`);
  }
}

function shardCount(name: string): number {
  const m = /-of-(\d+)$/.exec(name);
  return m ? Number(m[1]) : 1;
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

/** This run's permanent refusals of an address (not of the content: bounce.ts) go into the suppression store. */
async function suppressFailures(store: SuppressionStore, result: PipelineResult, kid: string): Promise<number> {
  const at = new Date().toISOString();
  const entries = result.failed
    .filter((f) => f.permanent && isAddressFailure(f.code, f.reason))
    .map((f) => ({ v: 1 as const, at, reason: "bounce" as const, fp: f.fp, key_id: kid, via: `smtp-${f.code ?? "5xx"}` }));
  await store.append(entries);
  return entries.length;
}

/** The checked newsletter without the list's address index (the checks are done with it). */
function sendInputs(p: Prepared) {
  const c = p.checked;
  const sha = (role: string) => c.inputs.find((i) => i.role === role)?.sha256 ?? "";
  return {
    listBytes: p.listBytes,
    checked: {
      id: c.id,
      config: c.config,
      meta: c.meta,
      body: c.body,
      digest: c.digest,
      suppressions: c.suppressions,
      store: c.storeSuppressions,
      layout: c.layout ? { file: c.layout.file, text: c.layout.text } : null,
      list: { file: c.list.file, valid: c.list.valid, sha256: c.list.sha256 },
      own: { newsletter: sha("newsletter"), body: sha("body") },
      begun: c.begun,
    },
  };
}
