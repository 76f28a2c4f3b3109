/**
 * `import-suppressions <file.csv>`: moves a suppression CSV (the format of
 * recipients/suppressions.csv) into the suppression store, as fingerprint
 * entries only (docs/design.md, "Recipient data and suppressions"), so the
 * CSV can leave git. A file with a malformed row is refused whole: a
 * suppression silently lost mails someone who said no.
 */
import { fingerprint } from "../../address/mask.ts";
import { bytesOnce } from "../../check/list-source.ts";
import { loadSuppressions } from "../../check/list.ts";
import { RefusedError } from "../../errors.ts";
import { keyId } from "../../ledger/ledger.ts";
import { resolveSecret } from "../../keys/secret.ts";
import type { CliInput } from "../args.ts";
import type { Io } from "../../runtime/io.ts";
import { loadConfig, readInputFile, suppressionStore } from "../../wiring/deps.ts";

export async function runImportSuppressionsCommand(input: Extract<CliInput, { command: "import-suppressions" }>, io: Io): Promise<number> {
  const config = loadConfig(input.root);
  const { secret } = resolveSecret(io.env, true);
  const bytes = await readInputFile(input.file);
  const loaded = await loadSuppressions(bytesOnce(bytes), { file: input.file });
  const error = loaded.findings.find((f) => f.severity === "error");
  if (error) throw new RefusedError(`refused: ${input.file}:${error.line}: ${error.message}; nothing was imported`);
  const at = new Date().toISOString();
  const kid = keyId(secret);
  const entries = [...loaded.addresses].map((a) => ({ v: 1 as const, at, reason: "manual" as const, fp: fingerprint(a, secret), key_id: kid, via: "import" }));
  const store = suppressionStore(config, input.root, io);
  await store.append(entries);
  io.out(`import-suppressions: ${entries.length} fingerprint${entries.length === 1 ? "" : "s"} added to ${store.location}; now \`git rm\` the CSV if it was in recipients/\n`);
  return 0;
}
