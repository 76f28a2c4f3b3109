/**
 * A hash table from fingerprints written as 32 lowercase hex characters
 * (src/address/mask.ts, the default `hexChars`) to a small code, held as
 * the fingerprint's 16 bytes in Int32Arrays and the code in a Uint8Array.
 * Why not a Map<string, …>: a resumed send of a million recipients folds a
 * million fingerprints, and as V8 strings hashed into a Map they were most
 * of the time and memory of opening the ledger (bench/README.md, "Figures behind the code"); here they
 * take 25–33 bytes each (key, code, and an index a quarter to half full)
 * and are read straight from the file's bytes.
 *
 * Keys are never removed (a released claim's key stays, with code 0), so
 * the index needs no tombstones, and entries keep the order they came in.
 */

/** 0–15 for `0-9a-f`, else BAD (an uppercase digit is another string, so another key). */
const HEX = new Uint16Array(256).fill(0x100);
const BAD = 0x100;
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) HEX[0x61 + c] = 10 + c;

/** Characters in a fingerprint this table holds. */
export const HEX_FP_CHARS = 32;

/**
 * Entries per chunk of keys (1 MiB of them). Chunks, not one array that
 * doubles: nothing is copied as the table grows, and no array twice the
 * size is allocated (zeroed, page-faulted) to hold the last few keys.
 */
const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;

/** Index slots to start with, as 2^bits (256 KiB): no growing for ledgers up to 32K keys. */
const MIN_INDEX_BITS = 16;
/** 2^30 slots (4 GiB): an entry (under 2^29) and a tag of at least 2 bits share each 32-bit slot (see `index`). */
const MAX_INDEX_BITS = 30;
/** The most a size hint reserves at once (32 MiB of index, 4M keys); past it the table grows as keys come. */
const MAX_HINT_BITS = 23;

export class HexTable {
  /** The keys in the order they came, four 32-bit words each, by chunk; and each one's code. */
  private readonly keys: Int32Array[] = [];
  private readonly codes: Uint8Array[] = [];
  private n = 0;
  /**
   * Open addressing with linear probing over 2^bits slots, at most half
   * full, each `entry + 1` (0: empty) in its low `bits` bits and, above
   * them, the low 32 − bits bits of the key's hash as a tag, so a probe
   * rarely reads a key that is not the one sought. The slot is the hash's
   * top `bits` bits. 4 bytes a slot: a fresh page is slow to fault in, so
   * memory touched is time.
   */
  private bits: number;
  private index: Int32Array;
  /** The key of the last load(): the fingerprint's four 32-bit words. */
  private readonly key = new Int32Array(4);
  /** What stage() loaded: keys (four words each), whether each span was one, each one's home slot. */
  private staged = new Int32Array(16 * 4);
  private stagedOk = new Uint8Array(16);
  private stagedSlot = new Int32Array(16);
  /** What stage() read, kept so that the reads are not optimised away. */
  private seen = 0;

  /** `expected`: keys to make room for at once (growing rewrites the index). */
  constructor(expected = 0) {
    this.bits = MIN_INDEX_BITS;
    while (this.bits < MAX_HINT_BITS && expected * 2 > 1 << this.bits) this.bits++;
    this.index = new Int32Array(1 << this.bits);
  }


  /** Loads the 32 characters at `buf[at]` as the key for find(); false unless they are lowercase hex. */
  loadBytes(buf: Uint8Array, at: number): boolean {
    let bad = 0;
    for (let w = 0; w < 4; w++) {
      let v = 0;
      for (let i = at + w * 8, end = i + 8; i < end; i++) {
        const d = HEX[buf[i]!]!;
        bad |= d;
        v = (v << 4) | (d & 15);
      }
      this.key[w] = v;
    }
    return (bad & BAD) === 0;
  }

  /**
   * Loads the fingerprints at buf[starts[k]..ends[k]) for k < count (a
   * claim's), each then made the key by loadStaged(k), and reads each one's
   * index slot before any is looked up. Why: those reads miss the cache
   * (the index is megabytes, the slots random) and do not depend on each other, so in a loop of
   * their own the processor has them all in flight at once, where
   * find() after find() waits for each in turn.
   */
  stage(buf: Uint8Array, starts: readonly number[], ends: readonly number[], count: number): void {
    if (this.stagedOk.length < count) {
      this.staged = new Int32Array(count * 8);
      this.stagedOk = new Uint8Array(count * 2);
      this.stagedSlot = new Int32Array(count * 2);
    }
    const key = this.key;
    const shift = 32 - this.bits;
    for (let k = 0; k < count; k++) {
      const ok = ends[k]! - starts[k]! === HEX_FP_CHARS && this.loadBytes(buf, starts[k]!);
      this.stagedOk[k] = ok ? 1 : 0;
      this.stagedSlot[k] = ok ? hash(key[0]!, key[1]!, key[2]!, key[3]!) >>> shift : 0;
      this.staged.set(key, k * 4);
    }
    let seen = 0;
    for (let k = 0; k < count; k++) seen ^= this.index[this.stagedSlot[k]!]!;
    this.seen = seen;
  }

  /** Makes the k-th staged fingerprint the key for find(); false if it was not 32 lowercase hex. */
  loadStaged(k: number): boolean {
    if (this.stagedOk[k] === 0) return false;
    const o = k * 4;
    this.key[0] = this.staged[o]!;
    this.key[1] = this.staged[o + 1]!;
    this.key[2] = this.staged[o + 2]!;
    this.key[3] = this.staged[o + 3]!;
    return true;
  }

  /** As loadBytes, for a fingerprint given as a string. */
  loadString(fp: string): boolean {
    if (fp.length !== HEX_FP_CHARS) return false;
    let bad = 0;
    for (let w = 0; w < 4; w++) {
      let v = 0;
      for (let i = w * 8, end = i + 8; i < end; i++) {
        const c = fp.charCodeAt(i);
        const d = c < 256 ? HEX[c]! : BAD;
        bad |= d;
        v = (v << 4) | (d & 15);
      }
      this.key[w] = v;
    }
    return (bad & BAD) === 0;
  }

  /** The entry of the loaded key; with `insert`, a new one (code 0) if it has none, else -1. */
  find(insert: boolean): number {
    const k = this.key;
    const k0 = k[0]!, k1 = k[1]!, k2 = k[2]!, k3 = k[3]!;
    const h = hash(k0, k1, k2, k3);
    const bits = this.bits;
    const index = this.index;
    const mask = (1 << bits) - 1;
    const tag = h << bits; // the hash's low 32 − bits bits, above the entry
    let i = h >>> (32 - bits);
    for (;;) {
      const v = index[i]!;
      if (v === 0) break;
      if ((v & ~mask) === tag) {
        const e = (v & mask) - 1;
        const keys = this.keys[e >>> CHUNK_BITS]!;
        const o = (e & CHUNK_MASK) * 4;
        if (keys[o] === k0 && keys[o + 1] === k1 && keys[o + 2] === k2 && keys[o + 3] === k3) return e;
      }
      i = (i + 1) & mask;
    }
    if (!insert) return -1;
    if ((this.n + 1) * 2 > 1 << bits) {
      if (bits === MAX_INDEX_BITS) throw new RangeError(`more than ${2 ** (MAX_INDEX_BITS - 1)} fingerprints`);
      this.grow();
      return this.find(true);
    }
    const e = this.n++;
    if ((e & CHUNK_MASK) === 0) {
      this.keys.push(new Int32Array(CHUNK * 4));
      this.codes.push(new Uint8Array(CHUNK));
    }
    const keys = this.keys[e >>> CHUNK_BITS]!;
    const o = (e & CHUNK_MASK) * 4;
    keys[o] = k0;
    keys[o + 1] = k1;
    keys[o + 2] = k2;
    keys[o + 3] = k3;
    index[i] = tag | (e + 1);
    return e;
  }

  code(entry: number): number {
    return this.codes[entry >>> CHUNK_BITS]![entry & CHUNK_MASK]!;
  }

  setCode(entry: number, code: number): void {
    this.codes[entry >>> CHUNK_BITS]![entry & CHUNK_MASK] = code;
  }

  /** Every key with a code other than 0, as its 32 hex characters, in the order the keys first came. */
  *entries(): IterableIterator<[string, number]> {
    for (let e = 0; e < this.n; e++) {
      const code = this.code(e);
      if (code === 0) continue;
      const keys = this.keys[e >>> CHUNK_BITS]!;
      let fp = "";
      for (let w = 0; w < 4; w++) fp += (keys[(e & CHUNK_MASK) * 4 + w]! >>> 0).toString(16).padStart(8, "0");
      yield [fp, code];
    }
  }

  /** Twice the slots; each key's hash again, read in entry order (the slots keep too few of its bits). */
  private grow(): void {
    const bits = ++this.bits;
    const index = new Int32Array(1 << bits);
    const mask = (1 << bits) - 1;
    for (let e = 0; e < this.n; e++) {
      const keys = this.keys[e >>> CHUNK_BITS]!;
      const o = (e & CHUNK_MASK) * 4;
      const h = hash(keys[o]!, keys[o + 1]!, keys[o + 2]!, keys[o + 3]!);
      let i = h >>> (32 - bits);
      while (index[i] !== 0) i = (i + 1) & mask;
      index[i] = (h << bits) | (e + 1);
    }
    this.index = index;
  }
}

/** Each word through a different odd multiplier (a bijection), then murmur3's fmix32. */
function hash(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77) ^ Math.imul(c, 0xc2b2ae3d) ^ Math.imul(d, 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
