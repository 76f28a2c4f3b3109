/**
 * What was sent stays sent (docs/design.md, "The audit record"): the ledger
 * is what makes a re-run skip everyone already mailed, so a ledger that is
 * gone while an audit record says a send began means the memory was lost
 * (deleted from the state branch, or a re-sharded send whose shards have no
 * ledger yet). The send then refuses rather than treat every recipient as
 * new. An audit record that cannot be read counts as a begun send (fail
 * closed).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { RefusedError } from "../errors.ts";
import { validateAuditRecord } from "./record.ts";

/** A begun send found in the audit records of `id` under `stateDir`, or null. */
function begunSend(stateDir: string, id: string): { file: string; started: string; outcome: string } | null {
  const dir = path.join(stateDir, "audit", id);
  if (!existsSync(dir)) return null;
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".json")).sort()) {
    const file = `audit/${id}/${name}`;
    let send;
    try {
      send = validateAuditRecord(JSON.parse(readFileSync(path.join(dir, name), "utf8"))).send;
    } catch {
      return { file, started: "unknown (the record cannot be read)", outcome: "unknown" };
    }
    if (send) return { file, started: send.started_at, outcome: send.outcome };
  }
  return null;
}

/**
 * Refuses (exit 1, nothing sent) when this shard's ledger `ledgerFile` does
 * not exist but an audit record of newsletter `id` shows a send that began.
 */
export function refuseForgottenSend(stateDir: string, id: string, ledgerFile: string): void {
  if (existsSync(ledgerFile)) return;
  const begun = begunSend(stateDir, id);
  if (begun === null) return;
  throw new RefusedError(
    `refused: newsletter ${id} was already sent: its audit record ${begun.file} shows a send that began at ${begun.started} (${begun.outcome}), ` +
      `but its ledger ${path.relative(stateDir, ledgerFile)} is missing from the state. Without the ledger every recipient would look new and be mailed again. ` +
      `Restore the ledger from the state branch's history to resume; a newsletter is never sent again as new.`,
  );
}
