/**
 * The set of a recipient list's normalised addresses, built for
 * million-row lists: append every valid row's address while streaming,
 * `seal()` once at the end, which finds the duplicates, then look addresses
 * up (`has`), count them (`size`) and iterate them in order of first
 * appearance.
 *
 * Why not a `Set<string>`: adding a million addresses to one was a large
 * share of the list check, and the Set kept every field
 * string alive (and with it the decoded chunk each is a slice of). Why not a
 * hash table of our own either: on these VMs the cost is memory, not
 * arithmetic. A page touched for the first time is expensive, and a random
 * access into tens of megabytes misses the TLB: a typed-array hash table
 * still spent most of its time in its probes and in faulting in the tables
 * it outgrew (bench/README.md, "Figures behind the code"). So here every access while streaming is sequential: each
 * address is copied once as bytes into pages that never move, its 32-bit
 * hash appended beside; `seal()` sorts the hashes (a radix sort: sequential
 * passes over a few megabytes) and compares the addresses of equal hashes.
 *
 * Exact, not probabilistic: equal hashes are confirmed by comparing the
 * stored characters, so `has` never answers yes for an address that is not
 * here, and a duplicate is always the same address as its first occurrence.
 *
 * Addresses that pass `addressProblem` are ASCII and at most 254
 * characters; anything else (a caller may add or look up any string) is
 * kept as a string on the side, in the same order.
 */

/** Iterable, sized membership: what the leak check and the send path need of a list's addresses. */
export interface AddressSet extends Iterable<string> {
  readonly size: number;
  has(address: string): boolean;
}

/** A later occurrence of an address (`index`) and its first occurrence (`first`), by append number. */
export interface Duplicate {
  index: number;
  first: number;
}

/** Record: length (1 byte; WIDE = the string is in `wide`), then the characters, one byte each. */
const WIDE = 0xff;
/** Record pages grow from 4 KiB (a small list stays small) to 1 MiB; a reference is page << 20 | offset. */
const FIRST_PAGE = 4096;
const PAGE_BITS = 20;
const MAX_PAGE = 1 << PAGE_BITS;
const MAX_PAGES = 2048;
/** Per-record numbers (hash, reference) in pages of 64 Ki entries. */
const ENTRY_BITS = 16;
const ENTRY_PAGE = 1 << ENTRY_BITS;
/** Lookups after `seal()` start in one of up to 2^16 ranges of the sorted hashes, by their top bits. */
const MAX_LOOKUP_BITS = 16;

export class AddressIndex implements AddressSet {
  private count = 0;
  private readonly pages: Uint8Array[] = [new Uint8Array(FIRST_PAGE)];
  private page: Uint8Array = this.pages[0]!;
  /** Bytes used in the last page. */
  private used = 0;
  private readonly hashPages: Int32Array[] = [];
  private readonly refPages: Int32Array[] = [];
  /** Strings of WIDE records, by append number. */
  private readonly wide = new Map<number, string>();
  private sealed: Sealed | null = null;

  /** Appended so far, duplicates included; also the number the next `append` returns. */
  get appended(): number {
    return this.count;
  }

  /** Distinct addresses (seals the index). */
  get size(): number {
    return this.count - this.seal().length;
  }

  /** Append the next address (duplicates too); returns its append number, 0, 1, 2, … */
  append(address: string): number {
    if (this.sealed !== null) throw new Error("AddressIndex: append() after seal()");
    const n = address.length;
    let page = this.page;
    let off = this.used;
    const size = n < WIDE ? 1 + n : 1;
    if (off + size > page.length) {
      page = this.newPage(size);
      off = 0;
    }
    // One pass: hash, and copy after the length byte.
    let h = FNV_OFFSET;
    let or = 0;
    if (n < WIDE) {
      const o = off + 1;
      for (let k = 0; k < n; k++) {
        const c = address.charCodeAt(k);
        or |= c;
        page[o + k] = c;
        h = Math.imul(h ^ c, FNV_PRIME);
      }
      h = finish(h);
    } else {
      h = hashOf(address);
      or = WIDE;
    }
    const i = this.count;
    const slot = i & (ENTRY_PAGE - 1);
    if (slot === 0) {
      this.hashPages.push(new Int32Array(ENTRY_PAGE));
      this.refPages.push(new Int32Array(ENTRY_PAGE));
    }
    const p = i >>> ENTRY_BITS;
    this.hashPages[p]![slot] = h;
    this.refPages[p]![slot] = ((this.pages.length - 1) << PAGE_BITS) | off;
    if (or < 0x80) {
      page[off] = n;
      this.used = off + 1 + n;
    } else {
      page[off] = WIDE;
      this.used = off + 1;
      this.wide.set(i, address);
    }
    this.count = i + 1;
    return i;
  }

  /**
   * Done appending: find the duplicates. Returns every later occurrence with
   * its first one, in append order; idempotent.
   */
  seal(): readonly Duplicate[] {
    return (this.sealed ??= this.sortAndCompare()).duplicates;
  }

  has(address: string): boolean {
    const s = (this.sealed ??= this.sortAndCompare());
    const h = hashOf(address);
    const t = h >>> s.shift;
    for (let k = s.starts[t]!, end = s.starts[t + 1]!; k < end; k++) {
      if (s.keys[k] === h && this.equals(s.order[k]!, address)) return true;
    }
    return false;
  }

  /** The address appended as number `i`. */
  at(i: number): string {
    const w = this.wide.get(i);
    if (w !== undefined) return w;
    const ref = this.refPages[i >>> ENTRY_BITS]![i & (ENTRY_PAGE - 1)]!;
    const page = this.pages[ref >>> PAGE_BITS]!;
    const off = ref & (MAX_PAGE - 1);
    return String.fromCharCode(...page.subarray(off + 1, off + 1 + page[off]!));
  }

  /** Distinct addresses in order of first appearance (seals the index). */
  *[Symbol.iterator](): IterableIterator<string> {
    const dups = this.seal();
    let d = 0;
    for (let i = 0; i < this.count; i++) {
      if (d < dups.length && dups[d]!.index === i) {
        d++;
        continue;
      }
      yield this.at(i);
    }
  }

  values(): IterableIterator<string> {
    return this[Symbol.iterator]();
  }

  private equals(i: number, address: string): boolean {
    const w = this.wide.get(i);
    if (w !== undefined) return w === address;
    const ref = this.refPages[i >>> ENTRY_BITS]![i & (ENTRY_PAGE - 1)]!;
    const page = this.pages[ref >>> PAGE_BITS]!;
    const off = ref & (MAX_PAGE - 1);
    const len = page[off]!;
    if (len !== address.length) return false;
    for (let k = 0, p = off + 1; k < len; k++, p++) {
      if (page[p] !== address.charCodeAt(k)) return false;
    }
    return true;
  }

  /** Records `i` and `j` hold the same address. */
  private same(i: number, j: number): boolean {
    const w = this.wide.get(i);
    if (w !== undefined) return this.equals(j, w);
    if (this.wide.has(j)) return false;
    const ri = this.refPages[i >>> ENTRY_BITS]![i & (ENTRY_PAGE - 1)]!;
    const rj = this.refPages[j >>> ENTRY_BITS]![j & (ENTRY_PAGE - 1)]!;
    const pi = this.pages[ri >>> PAGE_BITS]!;
    const pj = this.pages[rj >>> PAGE_BITS]!;
    const oi = ri & (MAX_PAGE - 1);
    const oj = rj & (MAX_PAGE - 1);
    const len = pi[oi]!;
    if (pj[oj] !== len) return false;
    for (let k = 1; k <= len; k++) if (pi[oi + k] !== pj[oj + k]) return false;
    return true;
  }

  private newPage(atLeast: number): Uint8Array {
    if (this.pages.length >= MAX_PAGES) throw new RangeError("AddressIndex: more than 2 GB of addresses");
    const page = new Uint8Array(Math.max(atLeast, Math.min(MAX_PAGE, this.page.length * 2)));
    this.pages.push(page);
    this.page = page;
    this.used = 0;
    return page;
  }

  private sortAndCompare(): Sealed {
    const n = this.count;
    const { keys, order } = sortHashes(this.hashPages, n);
    // Equal hashes are adjacent, in append order (the sort is stable): the
    // first of each group of equal addresses is the first occurrence. Groups
    // are one or two long, barring 32-bit collisions (~100 pairs in 10^6).
    const duplicates: Duplicate[] = [];
    const leaders: number[] = [];
    for (let a = 0; a < n; ) {
      let b = a + 1;
      while (b < n && keys[b] === keys[a]) b++;
      if (b - a > 1) {
        // Compared with the first occurrence of each distinct address so far
        // (not with every earlier one: a list of one address 10,000 times is linear).
        leaders.length = 0;
        leaders.push(order[a]!);
        for (let j = a + 1; j < b; j++) {
          const i = order[j]!;
          const first = leaders.find((l) => this.same(l, i));
          if (first === undefined) leaders.push(i);
          else duplicates.push({ index: i, first });
        }
      }
      a = b;
    }
    duplicates.sort((x, y) => x.index - y.index);
    // Where each range of top hash bits starts in `keys`, for `has`: about
    // one hash per range, up to 2^16 ranges (a small list, a small table).
    const bits = Math.max(1, Math.min(MAX_LOOKUP_BITS, 32 - Math.clz32(n)));
    const shift = 32 - bits;
    const starts = new Int32Array((1 << bits) + 1);
    for (let k = 0; k < n; k++) starts[(keys[k]! >>> shift) + 1]!++;
    for (let t = 0; t < 1 << bits; t++) starts[t + 1]! += starts[t]!;
    return { keys, order, starts, shift, duplicates };
  }
}

interface Sealed {
  /** The hashes, ascending as unsigned numbers. */
  keys: Int32Array;
  /** `order[k]`: the append number whose hash is `keys[k]`. */
  order: Int32Array;
  /** `keys[starts[t] .. starts[t + 1])` are the hashes whose top bits (`h >>> shift`) are t. */
  starts: Int32Array;
  shift: number;
  duplicates: Duplicate[];
}

/**
 * Hashes ascending (as unsigned 32-bit numbers) with their append numbers;
 * stable. First a scatter by the top 8 bits straight from the hash pages,
 * then each of those 256 buckets (a few thousand entries for a million)
 * sorted by the other 24 bits, 8 at a time, in a small buffer that stays
 * in cache: two arrays of n entries in all instead of four.
 */
function sortHashes(hashPages: readonly Int32Array[], n: number): { keys: Int32Array; order: Int32Array } {
  const keys = new Int32Array(n);
  const order = new Int32Array(n);
  const starts = new Int32Array(257);
  for (let i = 0; i < n; i++) starts[(hashPages[i >>> ENTRY_BITS]![i & (ENTRY_PAGE - 1)]! >>> 24) + 1]!++;
  for (let b = 0; b < 256; b++) starts[b + 1]! += starts[b]!;
  const next = starts.slice(0, 256);
  let biggest = 0;
  for (let b = 0; b < 256; b++) biggest = Math.max(biggest, starts[b + 1]! - starts[b]!);
  for (let i = 0; i < n; i++) {
    const h = hashPages[i >>> ENTRY_BITS]![i & (ENTRY_PAGE - 1)]!;
    const at = next[h >>> 24]!++;
    keys[at] = h;
    order[at] = i;
  }
  const tmpKeys = new Int32Array(biggest);
  const tmpOrder = new Int32Array(biggest);
  const count = new Int32Array(257);
  for (let b = 0; b < 256; b++) {
    const lo = starts[b]!;
    const len = starts[b + 1]! - lo;
    if (len < 2) continue;
    // Three stable passes over bits 0–7, 8–15, 16–23, between the bucket and the buffer.
    let srcK = keys.subarray(lo, lo + len);
    let srcO = order.subarray(lo, lo + len);
    let dstK = tmpKeys.subarray(0, len);
    let dstO = tmpOrder.subarray(0, len);
    for (let shift = 0; shift < 24; shift += 8) {
      count.fill(0);
      for (let k = 0; k < len; k++) count[((srcK[k]! >>> shift) & 0xff) + 1]!++;
      for (let d = 0; d < 256; d++) count[d + 1]! += count[d]!;
      for (let k = 0; k < len; k++) {
        const key = srcK[k]!;
        const at = count[(key >>> shift) & 0xff]!++;
        dstK[at] = key;
        dstO[at] = srcO[k]!;
      }
      [srcK, dstK] = [dstK, srcK];
      [srcO, dstO] = [dstO, srcO];
    }
    // An odd number of passes leaves the result in the buffer.
    keys.set(srcK, lo);
    order.set(srcO, lo);
  }
  return { keys, order };
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** FNV-1a over the UTF-16 code units, finished with murmur3's fmix32 so that the top bits depend on every character. */
function hashOf(s: string): number {
  let h = FNV_OFFSET;
  for (let k = 0; k < s.length; k++) h = Math.imul(h ^ s.charCodeAt(k), FNV_PRIME);
  return finish(h);
}

/** As an int32, what the Int32Arrays hold. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
