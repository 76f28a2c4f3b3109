/**
 * Opening a big ledger fast (src/ledger/state.ts LedgerFold, records.ts
 * SENT_LINE, fs-store.ts readPieces) must give exactly the state of the
 * plain path, parseLedger + foldLedger, for any sequence of records —
 * including claims followed by fails, releases and re-claims, which the
 * deferred claim must not reorder, escaped or non-ASCII text, and a torn
 * last line.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FsLedgerStore } from "../src/ledger/fs-store.ts";
import { keyId, Ledger } from "../src/ledger/ledger.ts";
import { LedgerCorruptError, parseLedger, type LedgerRecord } from "../src/ledger/records.ts";
import { foldLedger, foldLedgerText, LedgerFold } from "../src/ledger/state.ts";

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

const AT = "2026-12-01T09:00:00.000Z";

/** A random but plausible ledger: claims of groups, then outcomes, releases, re-claims. */
function randomLedger(rand: () => number, n: number): string {
  const fps = Array.from({ length: 40 }, (_, i) => `fp${i.toString(16).padStart(6, "0")}`);
  const pick = () => fps[Math.floor(rand() * fps.length)]!;
  const recs: LedgerRecord[] = [
    { t: "begin", v: 1, id: "2026-12-01-x", list: "c", list_rows: 40, digest: "d".repeat(64), at: AT, shard: "all", count: 40, key_id: keyId("s") },
  ];
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.25) recs.push({ t: "claim", fps: Array.from({ length: 1 + Math.floor(rand() * 4) }, pick), at: AT });
    else if (r < 0.6) recs.push({ t: "sent", fp: pick(), mid: `${pick()}.x@corp.example`, at: AT });
    else if (r < 0.7) recs.push({ t: "sent", fp: pick(), mid: 'odd "mid" \\ é', at: AT });
    else if (r < 0.85) recs.push({ t: "fail", fp: pick(), permanent: rand() < 0.5, reason: "550 ünknown", code: 550, at: AT });
    else if (r < 0.95) recs.push({ t: "release", fps: [pick(), pick()], at: AT });
    else recs.push({ t: "end", at: AT, outcome: "halted", detail: "SIGTERM" });
  }
  return recs.map((r) => `${JSON.stringify(r)}\n`).join("");
}

const plain = (text: string) => foldLedger(parseLedger(text, "f"));

describe("folding a ledger fast gives the plain fold's state", () => {
  it("over 500 random ledgers, as one text, as byte pieces cut anywhere on line ends, and with a torn tail", () => {
    const rand = prng(7);
    for (let k = 0; k < 500; k++) {
      const text = randomLedger(rand, 1 + Math.floor(rand() * 60));
      const want = plain(text);
      expect(foldLedgerText(text, "f")).toEqual(want);

      const bytes = Buffer.from(text, "utf8");
      const fold = new LedgerFold("f");
      let start = 0;
      let chars = 0;
      while (start < bytes.length) {
        let cut = bytes.indexOf(0x0a, Math.min(bytes.length - 1, start + Math.floor(rand() * 300))) + 1;
        if (cut === 0) cut = bytes.length;
        chars += fold.pushBytes(bytes.subarray(start, cut));
        start = cut;
      }
      expect(fold.finish()).toEqual(want);
      expect(chars).toBe(text.length);

      const torn = `${text}{"t":"sent","fp":"fp000001","mi`;
      expect(foldLedgerText(torn, "f")).toEqual(want);
    }
  });

  it("a sent line that only looks like ours is read by JSON.parse, and corruption still throws", () => {
    const odd = '{"t":"sent","fp":"a\\u0062","mid":"m","at":"x"}\n';
    expect(foldLedgerText(odd, "f").recipients.get("ab")).toBe("sent");
    expect(() => foldLedgerText('{"t":"sent","fp":"a","mid":"m","at":"x"} trailing\n', "f")).toThrow(LedgerCorruptError);
    expect(() => foldLedgerText('{"t":"sent","fp":"a"\n', "f")).toThrow(LedgerCorruptError);
  });

  it("Ledger.open reads a file in pieces (readPieces) to the same state, and cuts a torn tail", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "nl-fold-"));
    const file = path.join(dir, "l.jsonl");
    const text = randomLedger(prng(99), 3000);
    writeFileSync(file, `${text}{"t":"claim","fps":["fp0`);
    const l = await Ledger.open(new FsLedgerStore(file), {
      id: "2026-12-01-x", list: "c", listRows: 40, digest: "d".repeat(64), shard: "all", count: 40, secret: "s", now: () => new Date(),
    });
    expect(l.state).toEqual(plain(text));
    await l.close();
    const again = await new FsLedgerStore(file).read();
    expect(again.startsWith(text)).toBe(true);
    expect(again.includes('"fps":["fp0\n')).toBe(false);
  });
});
