/**
 * The recipients of a send, read from the exact list bytes the checks
 * hashed: parsed again with the same CSV parser, suppressions removed,
 * filtered to this shard. Yields one recipient's row at a time.
 */
import { normaliseAddress } from "../address/normalise.ts";
import { addressProblem } from "../address/validate.ts";
import { RefusedError } from "../errors.ts";
import { CsvParser } from "../load/csv.ts";

export interface Shard {
  index: number; // 1-based
  count: number;
}

export interface ListRow {
  address: string;
  row: Record<string, string>;
}

/** `--shard I/N` → stable: the same recipient always lands in the same shard for the same secret. */
export function inShard(fp: string, shard: Shard | null): boolean {
  if (!shard || shard.count === 1) return true;
  return parseInt(fp.slice(0, 8), 16) % shard.count === shard.index - 1;
}

export function shardName(shard: Shard | null): string {
  return shard ? `${shard.index}-of-${shard.count}` : "all";
}

/**
 * All rows of the list in order. The list passed the checks moments ago;
 * a row that is now invalid means the bytes changed underneath us: refuse.
 */
export function* listRows(bytes: Uint8Array, file: string, suppressions: ReadonlySet<string>): Generator<ListRow> {
  const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  let header: string[] | null = null;
  let emailCol = -1;
  const pending: ListRow[] = [];
  const seen = new Set<string>();
  let problem: string | null = null;
  const parser = new CsvParser({
    onRow(fields, line) {
      if (!header) {
        header = fields.map((f) => f.trim());
        emailCol = header.findIndex((h) => h.toLowerCase() === "email");
        return;
      }
      const raw = fields[emailCol] ?? "";
      const address = normaliseAddress(raw);
      if (!address || addressProblem(address) || fields.length !== header.length) {
        problem ??= `${file}:${line}: row is not valid any more`;
        return;
      }
      if (seen.has(address)) return; // the checks refused duplicates; never mail twice regardless
      seen.add(address);
      if (suppressions.has(address)) return;
      const row: Record<string, string> = {};
      for (let i = 0; i < header.length; i++) if (i !== emailCol) row[header[i]!] = fields[i] ?? "";
      pending.push({ address, row });
    },
    onError(e) {
      problem ??= `${file}:${e.line}: ${e.reason}`;
    },
  });
  const CHUNK = 1 << 20;
  for (let off = 0; off < text.length || off === 0; off += CHUNK) {
    parser.push(text.slice(off, off + CHUNK));
    if (off + CHUNK >= text.length) parser.end();
    if (problem) throw new RefusedError(`${problem}; the list changed after it was checked — nothing more is sent`);
    yield* pending.splice(0);
    if (text.length === 0) break;
  }
  if (emailCol < 0) throw new RefusedError(`${file}: no email column`);
}
