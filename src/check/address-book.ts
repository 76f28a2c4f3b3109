/**
 * Every recipient list's and the suppression list's addresses, looked up as
 * one. Holds the per-list sets as they are (a list's AddressIndex, the
 * suppressions' Set) instead of merging them: merging a million-row list
 * into a new Set or Map would double memory and time.
 */
export class AddressBook {
  private readonly sources: Array<{ name: string; set: { has(normalisedAddr: string): boolean } }> = [];

  /** `set`: exact membership of normalised addresses (a Set, or check/address-index.ts's AddressIndex). */
  add(name: string, set: { has(normalisedAddr: string): boolean }): void {
    this.sources.push({ name, set });
  }

  /** The file of the first list holding `normalisedAddr`, or undefined. */
  sourceOf(normalisedAddr: string): string | undefined {
    for (const s of this.sources) if (s.set.has(normalisedAddr)) return s.name;
    return undefined;
  }

  has(normalisedAddr: string): boolean {
    return this.sourceOf(normalisedAddr) !== undefined;
  }
}
