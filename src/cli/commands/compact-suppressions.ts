/**
 * `compact-suppressions [--dry-run]`: the suppression store as one sorted
 * snapshot object (docs/design.md, "Recipient data and suppressions"). Every
 * unsubscribe is an object of its own, and every check, approval copy and
 * send reads them all; folding them keeps that reading to a few requests.
 * Entries are never lost: the snapshot is written and read back before the
 * objects it holds are deleted, and an append made meanwhile is not deleted.
 */
import type { CliInput } from "../args.ts";
import type { Io } from "../../runtime/io.ts";
import { loadConfig, suppressionStore } from "../../wiring/deps.ts";

export async function runCompactSuppressionsCommand(input: Extract<CliInput, { command: "compact-suppressions" }>, io: Io): Promise<number> {
  const config = loadConfig(input.root);
  const store = suppressionStore(config, input.root, io);
  const r = await store.compact({ dryRun: input.dryRun });
  const s = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  if (r.snapshot === null) {
    io.out(`compact-suppressions: ${s(r.objects, "object", "objects")}, ${s(r.entries, "entry", "entries")} in ${store.location}; ${input.dryRun ? "dry run: nothing written or deleted" : "nothing to fold"}\n`);
  } else {
    io.out(`compact-suppressions: ${s(r.objects, "object", "objects")} folded into ${r.snapshot} (${s(r.entries, "entry", "entries")}) and deleted\n`);
  }
  return 0;
}
