/**
 * `status <dir> --address EMAIL`: "did this address get newsletter X?", for
 * support staff (docs/design.md, "Recipient data and suppressions"). Looked
 * up by fingerprint in the ledger of every shard and in the suppression
 * store; no list is read, and the address is printed masked only.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { fingerprint, mask } from "../../address/mask.ts";
import { normaliseAddress } from "../../address/normalise.ts";
import { UsageError } from "../../errors.ts";
import { FsLedgerStore } from "../../ledger/fs-store.ts";
import { keyId } from "../../ledger/ledger.ts";
import { parseLedger } from "../../ledger/records.ts";
import { foldLedger } from "../../ledger/state.ts";
import { resolveSecret } from "../../keys/secret.ts";
import type { Io } from "../../runtime/io.ts";
import { loadConfig, stateDir, suppressionStore } from "../../wiring/deps.ts";

const WORDS = {
  sent: "sent (the relay accepted it)",
  "failed-permanent": "not delivered: refused permanently",
  "failed-transient": "not delivered yet: refused for now, a resumed send retries it",
  claimed: "in doubt: handed over without a final reply (a resumed send does not repeat it)",
  none: "not sent: not in the ledger (not in the list, suppressed, or not reached yet)",
} as const;

export async function runAddressStatus(root: string, dir: string, raw: string, format: "text" | "json", io: Io): Promise<number> {
  const address = normaliseAddress(raw);
  if (!address) throw new UsageError("status --address needs an email address");
  const { secret, development } = resolveSecret(io.env, false);
  const fp = fingerprint(address, secret);
  const id = dir.split("/").pop() ?? dir;
  const ledgerDir = path.join(stateDir(root, io), "ledger", id);
  const files = (await readdir(ledgerDir).catch(() => [] as string[])).filter((f) => f.endsWith(".jsonl")).sort();
  let state: keyof typeof WORDS = "none";
  let shard: string | null = null;
  for (const f of files) {
    const s = foldLedger(parseLedger(await new FsLedgerStore(path.join(ledgerDir, f)).read(), f));
    if (s.begin && s.begin.key_id !== keyId(secret)) continue; // another key: its fingerprints are not comparable
    const r = s.recipients.get(fp);
    if (r) {
      state = r;
      shard = f.replace(/\.jsonl$/, "");
      break;
    }
  }
  const config = loadConfig(root);
  const suppressed = (await suppressionStore(config, root, io).read())
    .filter((e) => e.fp === fp || (e.address !== undefined && normaliseAddress(e.address) === address))
    .map((e) => ({ reason: e.reason, via: e.via ?? null, at: e.at }));
  if (format === "json") {
    io.out(`${JSON.stringify({ id, address: mask(address), fingerprint: fp, state, shard, suppressed })}\n`);
  } else {
    io.out(
      `${id}: ${mask(address)} (fingerprint ${fp.slice(0, 8)}…): ${WORDS[state]}${shard && shard !== "all" ? ` [shard ${shard}]` : ""}\n` +
        suppressed.map((s) => `  suppressed: ${s.reason}${s.via ? ` (${s.via})` : ""} at ${s.at}\n`).join("") +
        (development ? "  (NEWSLETTER_SECRET is not set: looked up under the development key)\n" : ""),
    );
  }
  return 0;
}
