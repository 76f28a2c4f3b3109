/**
 * `import-bounces <file.eml>...`: suppress the recipients that delivery
 * status notifications (RFC 3464) report as nonexistent (docs/design.md,
 * "Recipient data and suppressions"). Fingerprints only are stored. Exit 0
 * when every file was understood (suppressed, or a delay that suppresses
 * nobody); 1 when some file was refused (not a DSN, a forged token), so an
 * operator looks at it; nothing is stored from a refused file.
 */
import path from "node:path";
import { fingerprint } from "../../address/mask.ts";
import { normaliseAddress } from "../../address/normalise.ts";
import { verifyBounceToken } from "../../compose/ids.ts";
import { keyId } from "../../ledger/ledger.ts";
import { resolveSecret } from "../../keys/secret.ts";
import { decideBounce } from "../../suppress/bounce.ts";
import { parseDsn } from "../../suppress/dsn.ts";
import type { SuppressionEntry } from "../../suppress/entry.ts";
import { verpToken } from "../../suppress/verp.ts";
import type { CliInput } from "../args.ts";
import type { Io } from "../../runtime/io.ts";
import { loadConfig, readInputFile, suppressionStore } from "../../wiring/deps.ts";

export async function runImportBouncesCommand(input: Extract<CliInput, { command: "import-bounces" }>, io: Io): Promise<number> {
  const config = loadConfig(input.root);
  const { secret } = resolveSecret(io.env, true);
  const kid = keyId(secret);
  const ctx = {
    returnPath: config.sending.return_path,
    verifyToken: (t: string) => verifyBounceToken(secret, t),
    tokenIn: verpToken,
    fingerprintOf: (a: string) => {
      const n = normaliseAddress(a);
      return n ? fingerprint(n, secret) : null;
    },
  };
  const at = new Date().toISOString();
  const entries: SuppressionEntry[] = [];
  let refused = 0;
  for (const file of input.files) {
    const bytes = await readInputFile(file);
    const d = decideBounce(parseDsn(bytes), ctx);
    const name = path.basename(file);
    if (d.kind === "suppress") {
      for (const fp of d.fps) entries.push({ v: 1, at, reason: "bounce", fp, key_id: kid, via: `dsn-${d.by}` });
      io.err(`${name}: suppressed ${d.fps.map((f) => `${f.slice(0, 8)}…`).join(", ")} (by ${d.by})\n`);
    } else {
      if (d.kind === "refuse") refused++;
      io.err(`${name}: ${d.kind === "refuse" ? "refused" : "skipped"}: ${d.why}\n`);
    }
  }
  const store = suppressionStore(config, input.root, io);
  await store.append(entries);
  io.out(`import-bounces: ${input.files.length} file${input.files.length === 1 ? "" : "s"}, ${entries.length} recipient${entries.length === 1 ? "" : "s"} suppressed in ${store.location}, ${refused} refused\n`);
  return refused > 0 ? 1 : 0;
}
