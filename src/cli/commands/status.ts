/**
 * `status <dir> [--format json]`: progress from the ledger of every shard.
 * json: {"total","sent","failed","in_doubt","remaining","complete"} (README.md, "Sending").
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { checkNewsletters } from "../../check/check-newsletters.ts";
import { UnreadableInputError } from "../../errors.ts";
import { FsLedgerStore } from "../../ledger/fs-store.ts";
import { parseLedger } from "../../ledger/records.ts";
import { countLedger, foldLedger } from "../../ledger/state.ts";
import type { CliInput } from "../args.ts";
import { commandDeps } from "./deps.ts";
import type { Io } from "../io.ts";
import { stateDir } from "./check.ts";

export async function runStatusCommand(input: Extract<CliInput, { command: "status" }>, io: Io): Promise<number> {
  const state = stateDir(input.root, io);
  const outcome = await checkNewsletters(commandDeps(input.root, io), [input.dir]);
  const n = outcome.newsletters[0];
  if (!n?.list) {
    throw new UnreadableInputError(input.dir, `status: cannot read the list of ${input.dir}; run \`check ${input.dir}\``);
  }
  const dir = path.join(state, "ledger", n.id);
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith(".jsonl")).sort();
  let sent = 0, failed = 0, inDoubt = 0, retryable = 0;
  const shards: Array<{ shard: string; ended: string | null }> = [];
  for (const f of files) {
    const s = foldLedger(parseLedger(await new FsLedgerStore(path.join(dir, f)).read(), f));
    const c = countLedger(s);
    sent += c.sent; failed += c.failed; inDoubt += c.inDoubt; retryable += c.retryable;
    shards.push({ shard: f.replace(/\.jsonl$/, ""), ended: s.ends.at(-1)?.outcome ?? null });
  }
  const total = n.list.sendCount;
  // Monitors of a canary are in the ledger but not in the list: clamp rather than go negative.
  const remaining = Math.max(0, total - sent - failed - inDoubt);
  const complete = remaining === 0 && inDoubt === 0 && retryable === 0 && files.length > 0;
  if (input.format === "json") {
    io.out(`${JSON.stringify({ total, sent, failed, in_doubt: inDoubt, remaining, complete, retryable, shards })}\n`);
  } else {
    io.out(
      `${n.id}: ${complete ? "complete" : files.length ? "incomplete" : "not started"}\n` +
        `  total ${total}  sent ${sent}  failed ${failed}  in doubt ${inDoubt}  retryable ${retryable}  remaining ${remaining}\n` +
        shards.map((s) => `  shard ${s.shard}: ${s.ended ?? "running or killed"}\n`).join(""),
    );
  }
  return 0;
}
