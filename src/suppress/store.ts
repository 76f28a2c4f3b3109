/**
 * The suppression store (docs/design.md, "Recipient data and suppressions"):
 * append-only, on the same backends as the lists. Every append is a new
 * object `<prefix><time>-<random>.jsonl`; nothing is ever rewritten or
 * deleted, so concurrent writers (the unsubscribe server, a send recording
 * bounces, `forget`) never lose each other's entries.
 *
 * Readers: send (and a resumed send) before its first message, status. Writers:
 * unsubscribe-server, import-bounces, send (permanent failures), forget.
 */
import { randomBytes } from "node:crypto";
import { RefusedError } from "../errors.ts";
import { joinLocation, type ObjectStore } from "../store/port.ts";
import { formatEntries, parseEntries, type SuppressionEntry } from "./entry.ts";

export interface SuppressionStore {
  /** Where it is, for messages. */
  readonly location: string;
  /** Every entry ever appended. Throws RefusedError when an object cannot be parsed, StoreError when unreachable. */
  read(): Promise<SuppressionEntry[]>;
  /** Durably adds `entries` as one new object (nothing when empty). Throws StoreError. */
  append(entries: readonly SuppressionEntry[]): Promise<void>;
}

/** Objects fetched at once when reading (each is one small GET). */
const READ_CONCURRENCY = 16;

export class ObjectSuppressionStore implements SuppressionStore {
  constructor(
    private readonly objects: ObjectStore,
    readonly location: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async read(): Promise<SuppressionEntry[]> {
    const prefix = this.location.endsWith("/") ? this.location : `${this.location}/`;
    const names = (await this.objects.list(prefix)).filter((n) => n.endsWith(".jsonl"));
    const texts: string[] = new Array(names.length);
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const i = next++;
        texts[i] = new TextDecoder().decode(await this.objects.get(names[i]!));
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, names.length) }, worker));
    const out: SuppressionEntry[] = [];
    for (let i = 0; i < names.length; i++) {
      try {
        out.push(...parseEntries(texts[i]!, names[i]!));
      } catch (e) {
        throw new RefusedError(`refused: the suppression store holds an unreadable entry (${(e as Error).message}); nothing is sent until it is fixed`);
      }
    }
    return out;
  }

  async append(entries: readonly SuppressionEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const stamp = this.now().toISOString().replace(/[:.]/g, "-");
    await this.objects.put(joinLocation(this.location, `${stamp}-${randomBytes(6).toString("hex")}.jsonl`), new TextEncoder().encode(formatEntries(entries)));
  }
}
