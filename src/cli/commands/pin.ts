/**
 * `pin <name> <file.csv> --to LOCATION`: a new snapshot of a recipient list
 * outside git (docs/design.md, "Recipient data and suppressions"). The file
 * is checked, uploaded under a name that carries its hash (snapshots are
 * never overwritten), read back and verified, and `recipients/<name>.yml` is
 * written with the hash and the row count: ready for a pull request whose
 * diff is a hash and a count. A `recipients/<name>.csv` of the same name is
 * removed from the working tree (the snapshot replaces it).
 */
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { checkRecipientList } from "../../check/list.ts";
import { extractAddresses } from "../../detect/extract.ts";
import { bytesOnce, sha256Hex } from "../../check/list-source.ts";
import { RefusedError } from "../../errors.ts";
import { formatListRef, type ListRef } from "../../load/list-ref.ts";
import { isS3Location, type ObjectStore } from "../../store/port.ts";
import { objectStores } from "../../store/select.ts";
import type { CliInput } from "../args.ts";
import type { Io } from "../../runtime/io.ts";
import { readInputFile } from "../../wiring/deps.ts";

export async function runPinCommand(input: Extract<CliInput, { command: "pin" }>, io: Io): Promise<number> {
  const bytes = await readInputFile(input.file);
  const store = objectStores(input.root, io.env);
  const { ref, refFile, removed } = await pinList(store, input.root, input.name, bytes, input.to);
  io.out(
    `pinned ${input.name}: ${ref.rows} rows, sha256 ${ref.sha256}\n` +
      `  source ${ref.source}\n  wrote  ${refFile}\n` +
      (removed ? `  removed ${removed} from the working tree: \`git rm\` it and commit both in one pull request\n` : ""),
  );
  return 0;
}

/**
 * Check `bytes` as a list (any error refuses: a snapshot that cannot be sent
 * is not pinned), upload, verify, and write the reference. Returns it.
 */
export async function pinList(
  store: ObjectStore,
  root: string,
  name: string,
  bytes: Uint8Array,
  to: string,
): Promise<{ ref: ListRef; refFile: string; removed: string | null }> {
  const sha256 = sha256Hex(bytes);
  const report = await checkRecipientList(bytesOnce(bytes), { file: `${name} (new snapshot)`, findAddresses: extractAddresses });
  const errors = report.findings.filter((f) => f.severity === "error");
  if (errors.length > 0) {
    const first = errors[0]!;
    throw new RefusedError(
      `refused: the list has ${errors.length} error${errors.length === 1 ? "" : "s"} (first: line ${first.line}: ${first.message}); nothing was uploaded`,
    );
  }
  // References hold relative paths only (list-ref.ts): an absolute folder is written relative to the root.
  const where = !isS3Location(to) && path.isAbsolute(to) ? `${path.relative(root, to).split(path.sep).join("/")}${to.endsWith("/") ? "/" : ""}` : to;
  const source = where.endsWith("/") ? `${where}${name}-${sha256.slice(0, 16)}.csv` : where;
  await store.put(source, bytes);
  // Read back: the reference is written only for bytes the store really holds.
  if (sha256Hex(await store.get(source)) !== sha256) {
    throw new RefusedError(`refused: ${source} does not hold the uploaded bytes when read back; the reference was not written`);
  }
  const ref: ListRef = { source, sha256, rows: report.rows };
  const refFile = `recipients/${name}.yml`;
  await writeFile(path.join(root, refFile), formatListRef(ref));
  const csv = path.join(root, "recipients", `${name}.csv`);
  const removed = await rm(csv).then(
    () => `recipients/${name}.csv`,
    () => null,
  );
  return { ref, refFile, removed };
}
