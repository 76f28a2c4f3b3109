/**
 * Opening a big ledger fast (src/ledger/state.ts LedgerFold, fold-bytes.ts,
 * recipient-states.ts and its table hex-table.ts, records.ts SENT_LINE,
 * fs-store.ts readPieces) must give exactly the state of the simplest fold
 * there is — every line through JSON.parse into a Map, written out below
 * from docs/design.md, "The ledger" — for any sequence of records: claims
 * interleaved with outcomes, fails, releases and re-claims, ends and
 * resumes, fingerprints as Ledger writes them (32 lowercase hex) and any
 * other string (uppercase hex, short, escaped, non-ASCII), escaped or
 * non-ASCII text elsewhere, a torn last line, and tables that grow.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FsLedgerStore } from "../src/ledger/fs-store.ts";
import { HexTable } from "../src/ledger/hex-table.ts";
import { keyId, Ledger } from "../src/ledger/ledger.ts";
import { LedgerCorruptError, parseLedger, type LedgerRecord } from "../src/ledger/records.ts";
import { CLAIM, FAIL_PERMANENT, FAIL_TRANSIENT, RecipientStates, RELEASE, SENT } from "../src/ledger/recipient-states.ts";
import { countLedger, foldLedger, foldLedgerText, inDoubt, LedgerFold, type LedgerState } from "../src/ledger/state.ts";

type Rs = "claimed" | "sent" | "failed-permanent" | "failed-transient";

/** The reference: the rules of docs/design.md, "The ledger", one record at a time, in a Map. */
function referenceFold(text: string) {
  const r = new Map<string, Rs>();
  let begin: unknown = null;
  const ends: unknown[] = [];
  for (const line of text.split("\n").slice(0, -1)) {
    if (line === "") continue;
    const rec = JSON.parse(line) as LedgerRecord;
    if (rec.t === "begin") begin ??= rec;
    else if (rec.t === "end") ends.push(rec);
    else if (rec.t === "claim") {
      // Claimed, unless already sent or failed for good (a retry after a transient failure is in doubt again).
      for (const fp of rec.fps) if (!r.has(fp) || r.get(fp) === "failed-transient") r.set(fp, "claimed");
    } else if (rec.t === "sent") r.set(rec.fp, "sent");
    else if (rec.t === "fail") {
      if (r.get(rec.fp) !== "sent") r.set(rec.fp, rec.permanent ? "failed-permanent" : "failed-transient");
    } else if (rec.t === "release") {
      for (const fp of rec.fps) if (r.get(fp) === "claimed") r.delete(fp);
    }
  }
  return { begin, ends, recipients: [...r].sort(byFp) };
}

const byFp = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** A state in a form to compare: its recipients sorted (the table keeps no Map order), and its counts. */
function snapshot(s: LedgerState) {
  const recipients = [...s.recipients].sort(byFp);
  const counts = countLedger(s);
  expect(s.recipients.size).toBe(recipients.length);
  expect(counts.sent + counts.failed + counts.inDoubt + counts.retryable).toBe(recipients.length);
  // get() and has() agree with the iteration (one expect: a hundred thousand of them are slow).
  expect(recipients.filter(([fp, st]) => s.recipients.get(fp) !== st || !s.recipients.has(fp))).toEqual([]);
  return { begin: s.begin, ends: s.ends, recipients };
}

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

const AT = "2026-12-01T09:00:00.000Z";
const hex32 = (i: number) => (i * 2654435761 >>> 0).toString(16).padStart(32, "0");

/** Fingerprints of every kind: mostly as Ledger writes them, and strings the table must leave to its Map. */
function fingerprints(n: number): string[] {
  const fps = Array.from({ length: n }, (_, i) => hex32(i));
  fps.push(
    hex32(1).toUpperCase().replace(/^0/, "A"), // 32 hex characters, not lowercase: another recipient
    `${hex32(2).slice(0, 31)}g`,
    hex32(3).slice(1), // 31 characters
    `${hex32(4)}0`, // 33
    "fp000001",
    "a",
    'q"uote\\d', // escaped by JSON.stringify: read by JSON.parse
    "back\\slash\\", // ASCII, but written with escapes: read by JSON.parse
    "ünïcode-fp",
  );
  return fps;
}

/**
 * A random but plausible ledger: runs (each a begin on the first, then an end
 * at random) of claims in groups, outcomes of earlier claims, fails, releases
 * and re-claims, with the odd record not as Ledger writes it.
 */
function randomLedger(rand: () => number, n: number, fps: readonly string[]): string {
  const pick = () => fps[Math.floor(rand() * fps.length)]!;
  const recs: LedgerRecord[] = [
    { t: "begin", v: 1, id: "2026-12-01-x", list: "c", list_rows: fps.length, digest: "d".repeat(64), at: AT, shard: "all", count: fps.length, key_id: keyId("s") },
  ];
  const claimed: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rand();
    const recent = () => (claimed.length ? claimed[claimed.length - 1 - Math.floor(rand() * Math.min(claimed.length, 30))]! : pick());
    if (r < 0.25) {
      const fpsOf = Array.from({ length: 1 + Math.floor(rand() * 10) }, pick);
      claimed.push(...fpsOf);
      recs.push({ t: "claim", fps: fpsOf, at: AT });
    } else if (r < 0.6) recs.push({ t: "sent", fp: recent(), mid: `${pick()}.x@corp.example`, at: AT });
    else if (r < 0.65) recs.push({ t: "sent", fp: recent(), mid: 'odd "mid" \\ é', at: AT });
    else if (r < 0.8) recs.push({ t: "fail", fp: rand() < 0.7 ? recent() : pick(), permanent: rand() < 0.5, reason: "550 ünknown", code: 550, at: AT });
    else if (r < 0.9) recs.push({ t: "release", fps: [recent(), pick()], at: AT });
    else if (r < 0.93) recs.push({ t: "claim", fps: [], at: AT });
    else recs.push({ t: "end", at: AT, outcome: "halted", detail: "SIGTERM" });
  }
  return recs.map((r) => `${JSON.stringify(r)}\n`).join("");
}

/** The text as byte pieces cut at random line ends, as readPieces gives them. */
function foldPieces(text: string, rand: () => number, expected = 0): { state: LedgerState; chars: number } {
  const bytes = Buffer.from(text, "utf8");
  const fold = new LedgerFold("f", expected);
  let start = 0;
  let chars = 0;
  while (start < bytes.length) {
    let cut = bytes.indexOf(0x0a, Math.min(bytes.length - 1, start + Math.floor(rand() * 600))) + 1;
    if (cut === 0) cut = bytes.length;
    chars += fold.pushBytes(bytes.subarray(start, cut));
    start = cut;
  }
  return { state: fold.finish(), chars };
}

describe("folding a ledger fast gives the reference fold's state", () => {
  it("over 500 random ledgers: records, one text, byte pieces cut anywhere on line ends, a torn tail", () => {
    const rand = prng(7);
    for (let k = 0; k < 500; k++) {
      const fps = fingerprints(1 + Math.floor(rand() * 40));
      const text = randomLedger(rand, 1 + Math.floor(rand() * 80), fps);
      const want = referenceFold(text);
      expect(snapshot(foldLedger(parseLedger(text, "f")))).toEqual(want);
      expect(snapshot(foldLedgerText(text, "f"))).toEqual(want);
      const { state, chars } = foldPieces(text, rand, rand() < 0.5 ? 0 : fps.length);
      expect(snapshot(state)).toEqual(want);
      expect(chars).toBe(text.length);

      const torn = `${text}{"t":"sent","fp":"${fps[0]}","mi`;
      expect(snapshot(foldLedgerText(torn, "f"))).toEqual(want);
    }
  });

  it("on ledgers of 50,000 recipients, past every growth of the table, with and without the size hint", () => {
    const rand = prng(11);
    const fps = fingerprints(50_000);
    const text = randomLedger(rand, 80_000, fps);
    const want = referenceFold(text);
    expect(want.recipients.length).toBeGreaterThan(33_000);
    expect(snapshot(foldPieces(text, rand).state)).toEqual(want);
    expect(snapshot(foldPieces(text, rand, fps.length).state)).toEqual(want);
    expect(snapshot(foldPieces(text, rand, 10).state)).toEqual(want);
  });

  it("a claim of more fingerprints than the table stages at once, of both kinds, then their outcomes", () => {
    // Plain ones only (no escape, ASCII), or the line is not read from its bytes.
    const fps = fingerprints(60).filter((fp) => /^[\x20-\x7e]*$/.test(fp) && !/["\\]/.test(fp));
    expect(fps.length).toBe(66); // all but the two written with escapes and the non-ASCII one
    const recs: LedgerRecord[] = [
      { t: "claim", fps: [...fps, ...fps.slice(0, 5)], at: AT },
      ...fps.slice(0, 30).map((fp): LedgerRecord => ({ t: "sent", fp, mid: "m@corp.example", at: AT })),
      { t: "fail", fp: fps[31]!, permanent: false, reason: "421", at: AT },
      { t: "claim", fps: fps.slice(28, 40), at: AT },
      { t: "release", fps: fps.slice(35, 50), at: AT },
    ];
    const text = recs.map((r) => `${JSON.stringify(r)}\n`).join("");
    const want = referenceFold(text);
    expect(snapshot(foldPieces(text, prng(5)).state)).toEqual(want);
    expect(snapshot(foldLedgerText(text, "f"))).toEqual(want);
  });

  it("in-doubt recipients are listed sorted, whichever store holds them", () => {
    const text = randomLedger(prng(3), 400, fingerprints(30));
    const want = referenceFold(text).recipients.filter(([, s]) => s === "claimed").map(([fp]) => fp);
    expect(inDoubt(foldLedgerText(text, "f"))).toEqual(want);
  });

  it("a sent line that only looks like ours is read by JSON.parse, and corruption still throws", () => {
    const odd = '{"t":"sent","fp":"a\\u0062","mid":"m","at":"x"}\n';
    expect(foldLedgerText(odd, "f").recipients.get("ab")).toBe("sent");
    const fold = new LedgerFold("f");
    fold.pushBytes(Buffer.from(`{"t":"sent","fp":"${hex32(5).slice(0, 31)}\\u0061","mid":"m","at":"x"}\n`));
    expect(fold.finish().recipients.get(`${hex32(5).slice(0, 31)}a`)).toBe("sent");
    for (const bad of [
      '{"t":"sent","fp":"a","mid":"m","at":"x"} trailing\n',
      '{"t":"sent","fp":"a"\n',
      `{"t":"sent","fp":"${hex32(6)}","mid":"m\u0001","at":"x"}\n`,
      `{"t":"sent","fp":"${hex32(6)}","mid":"m","at":"x\u001f"}\n`,
      `{"t":"sent","fp":"a\u001fb","mid":"m","at":"x"}\n`,
      `{"t":"claim","fps":["${hex32(7)}","a\u001f"],"at":"x"}\n`,
      `{"t":"claim","fps":["${hex32(7)}"],"at":"\u001f"}\n`,
      `{"t":"claim","fps":["${hex32(7)}",],"at":"x"}\n`,
      `{"t":"claim","fps":["${hex32(7)}"],"at":"x"}}\n`,
    ]) {
      expect(() => foldLedgerText(bad, "f")).toThrow(LedgerCorruptError);
      expect(() => new LedgerFold("f").pushBytes(Buffer.from(bad))).toThrow(LedgerCorruptError);
    }
  });

  it("Ledger.open reads a file in pieces (readPieces) to the same state, and cuts a torn tail", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "nl-fold-"));
    const file = path.join(dir, "l.jsonl");
    const text = randomLedger(prng(99), 3000, fingerprints(40));
    writeFileSync(file, `${text}{"t":"claim","fps":["fp0`);
    const l = await Ledger.open(new FsLedgerStore(file), {
      id: "2026-12-01-x", list: "c", listRows: 40, digest: "d".repeat(64), shard: "all", count: 40, secret: "s", now: () => new Date(),
    });
    expect(snapshot(l.state)).toEqual(referenceFold(text));
    await l.close();
    const again = await new FsLedgerStore(file).read();
    expect(again.startsWith(text)).toBe(true);
    expect(again.includes('"fps":["fp0\n')).toBe(false);
  });
});

describe("RecipientStates", () => {
  it("applies each record's transition, keeps counts, and tells 32-hex fingerprints from look-alikes", () => {
    const s = new RecipientStates();
    const lower = hex32(9);
    const upper = lower.toUpperCase().replace(/^0/, "F");
    s.apply(lower, CLAIM);
    s.apply(upper, CLAIM);
    expect([s.get(lower), s.get(upper), s.size]).toEqual(["claimed", "claimed", 2]);
    s.apply(lower, FAIL_TRANSIENT);
    expect(s.get(lower)).toBe("failed-transient");
    s.apply(lower, CLAIM); // a retry on resume: in doubt again
    expect(s.get(lower)).toBe("claimed");
    s.apply(lower, SENT);
    s.apply(lower, FAIL_PERMANENT); // a later failure never unsends
    s.apply(lower, CLAIM);
    s.apply(lower, RELEASE);
    expect(s.get(lower)).toBe("sent");
    s.apply(upper, RELEASE);
    expect([s.get(upper), s.has(upper), s.size]).toEqual([undefined, false, 1]);
    s.apply(upper, RELEASE); // nothing to release: no key is made
    s.apply(hex32(10), RELEASE);
    expect([...s.keys()]).toEqual([lower]);
    s.apply(upper, FAIL_PERMANENT);
    expect(s.count("failed-permanent")).toBe(1);
    expect([...s.values()].sort()).toEqual(["failed-permanent", "sent"]);
  });

  it("its table finds every key after growing, and lists them in the order they came", () => {
    const t = new HexTable();
    const keys = Array.from({ length: 200_000 }, (_, i) => hex32(i));
    keys.forEach((k, i) => {
      if (!t.loadString(k)) throw new Error(k);
      t.setCode(t.find(true), 1 + (i % 4));
    });
    const wrong = keys.filter((k, i) => !t.loadBytes(Buffer.from(k, "latin1"), 0) || t.code(t.find(false)) !== 1 + (i % 4));
    expect(wrong).toEqual([]);
    t.loadString(hex32(200_001));
    expect(t.find(false)).toBe(-1);
    expect([...t.entries()].map(([k]) => k)).toEqual(keys);
  });
});
