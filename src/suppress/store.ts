/**
 * The suppression store (docs/design.md, "Recipient data and suppressions"):
 * append-only, on the same backends as the lists. Every append is a new
 * object `<prefix><time>-<random>.jsonl`; nothing is ever rewritten, so
 * concurrent writers (the unsubscribe server, a send recording bounces,
 * `forget`) never lose each other's entries.
 *
 * Readers: check, the approval copy, send (and a resumed send) before its first message, status. Writers:
 * unsubscribe-server, import-bounces, send (permanent failures), forget.
 *
 * `compact` (an admin's command) folds every object into one sorted snapshot
 * and only then deletes the objects it folded: an entry is never lost, and an
 * append made meanwhile is a new object it did not list, so it stays.
 */
import { randomBytes } from "node:crypto";
import { RefusedError } from "../errors.ts";
import { joinLocation, StoreError, type ObjectStore } from "../store/port.ts";
import { formatEntries, parseEntries, type SuppressionEntry } from "./entry.ts";

export interface SuppressionStore {
  /** Where it is, for messages. */
  readonly location: string;
  /** Every entry ever appended. Throws RefusedError when an object cannot be parsed, StoreError when unreachable. */
  read(): Promise<SuppressionEntry[]>;
  /** Durably adds `entries` as one new object (nothing when empty). Throws StoreError. */
  append(entries: readonly SuppressionEntry[]): Promise<void>;
}

/** Objects fetched (or deleted) at once (each is one small request). */
const READ_CONCURRENCY = 16;
/** Readings started over when an object listed a moment ago is gone (a compaction deleted it after writing its snapshot). */
const READ_ATTEMPTS = 3;

export interface Compaction {
  /** Objects folded (and deleted), entries kept (exact duplicates dropped), the snapshot written; null when nothing was folded. */
  objects: number;
  entries: number;
  snapshot: string | null;
}

export class ObjectSuppressionStore implements SuppressionStore {
  constructor(
    private readonly objects: ObjectStore,
    readonly location: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async read(): Promise<SuppressionEntry[]> {
    return (await this.readAll()).entries;
  }

  /**
   * Every object into one, sorted by recipient then time, written and read back before the
   * objects it holds are deleted (docs/design.md, "Recipient data and suppressions").
   */
  async compact(opts: { dryRun?: boolean } = {}): Promise<Compaction> {
    const { names, entries } = await this.readAll();
    const lines = sortedLines(entries);
    if (names.length < 2 || opts.dryRun) return { objects: names.length, entries: lines.length, snapshot: null };
    const snapshot = this.objectName("compacted");
    await this.objects.put(snapshot, new TextEncoder().encode(lines.join("")));
    const back = parseEntries(new TextDecoder().decode(await this.objects.get(snapshot)), snapshot);
    if (back.length !== lines.length) throw new StoreError("access", snapshot, `${snapshot}: the snapshot read back holds ${back.length} entries, not ${lines.length}; nothing was deleted`);
    await eachAtOnce(names, (n) => this.objects.remove(n));
    return { objects: names.length, entries: lines.length, snapshot };
  }

  private async readAll(): Promise<{ names: string[]; entries: SuppressionEntry[] }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.readOnce();
      } catch (e) {
        if (!(e instanceof StoreError && e.kind === "missing") || attempt >= READ_ATTEMPTS) throw e;
      }
    }
  }

  private async readOnce(): Promise<{ names: string[]; entries: SuppressionEntry[] }> {
    const prefix = this.location.endsWith("/") ? this.location : `${this.location}/`;
    const names = (await this.objects.list(prefix)).filter((n) => n.endsWith(".jsonl"));
    const texts: string[] = new Array(names.length);
    await eachAtOnce(names, async (n, i) => {
      texts[i] = new TextDecoder().decode(await this.objects.get(n));
    });
    const out: SuppressionEntry[] = [];
    for (let i = 0; i < names.length; i++) {
      try {
        out.push(...parseEntries(texts[i]!, names[i]!));
      } catch (e) {
        throw new RefusedError(`refused: the suppression store holds an unreadable entry (${(e as Error).message}); nothing is sent until it is fixed`);
      }
    }
    return { names, entries: out };
  }

  async append(entries: readonly SuppressionEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.objects.put(this.objectName(), new TextEncoder().encode(formatEntries(entries)));
  }

  /** A name never used before, sorting by time: `<time>-[<kind>-]<random>.jsonl`. */
  private objectName(kind?: string): string {
    const stamp = this.now().toISOString().replace(/[:.]/g, "-");
    return joinLocation(this.location, `${stamp}-${kind ? `${kind}-` : ""}${randomBytes(6).toString("hex")}.jsonl`);
  }
}

/** `run` over `items`, READ_CONCURRENCY at a time. */
async function eachAtOnce<T>(items: readonly T[], run: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await run(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, items.length) }, worker));
}

/** The snapshot's lines: one per distinct entry, by fingerprint or address, then time. */
function sortedLines(entries: readonly SuppressionEntry[]): string[] {
  const keyed = new Map<string, string>();
  for (const e of entries) {
    const line = formatEntries([e]);
    if (!keyed.has(line)) keyed.set(line, `${e.fp ?? ""}\0${e.address ?? ""}\0${e.at}\0${line}`);
  }
  return [...keyed].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)).map(([line]) => line);
}
