/**
 * RFC 2047 encoded-words and RFC 5322 header folding: ours
 * (src/compose/encoded-word.ts, header.ts foldPieces) against libmime,
 * nodemailer's own (what a switch would use: the library mailparser reads
 * with), beside the whole per-message compose time of the send path in the
 * same run (plan.messageFor, the fast path, as bench/send-micro.ts times it).
 *
 *   npx tsx bench/header-encoding.ts [--reps N] [--rows N]
 *
 * What is timed is the part a switch would replace, on the same decisions:
 * each value our composer encodes (header.ts decides which) through
 * encodeWords vs libmime.encodeWord (B or Q, whichever is shorter, as ours
 * picks), and each field through foldPieces vs libmime.foldLines. The rules
 * around them (plain, quoted or encoded; the 998 check) stay either way and
 * are left out of both.
 *
 * Two header sets:
 * - "per message": what the send encodes for each recipient — To (a display
 *   name, Japanese or Latin), a Subject with the recipient's name in it (the
 *   sample newsletter's subject has a field, and Japanese), Message-ID and
 *   List-Unsubscribe (a long https URL and a mailto). From, List-Id and extra
 *   headers are the same for every recipient and remembered by composeHeaders
 *   (message.ts).
 * - "full set": those and From, List-Id and an extra header, every field
 *   afresh (a subject without a field: the same work once per send).
 * And "folding only": the per-message set's fields folded, their words
 * encoded beforehand (by ours, for both).
 *
 * Figures and the decision they support: bench/README.md, "Header encoding".
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import libmime from "libmime";
import { encodeWords, MAX_WORD } from "../src/compose/encoded-word.ts";
import { foldPieces, MAX_LINE, type Piece } from "../src/compose/header.ts";
import { benchPlan, writeSendRepo } from "./send-fixture.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const reps = arg("--reps", 9);
const rowCount = arg("--rows", 5000);

const SURNAMES = ["山田", "佐藤", "鈴木", "高橋", "田中", "渡辺", "伊藤", "中村"];
const GIVEN = ["太郎", "花子", "健一", "美咲", "翔太", "さくら"];
const LATIN = ["Anne-Marie Dupont", "José Álvarez", "Zoë O'Neil", "Björn Müller", "Chen Wei", "Priya Natarajan"];
const SUBJECT = "2026年冬のアップデート：東京リージョン開設とエクスポートの高速化について";
const MAILTO = "mailto:unsubscribe@corp.example?subject=unsubscribe";

/** One field: its name, the values header.ts would encode (in order), and its other pieces. */
interface Field {
  name: string;
  encoded: string[];
  /** Pieces after the encoded words (an address, a URL). */
  tail: Piece[];
}

/** Realistic recipients: two thirds Japanese names, the rest Latin (some accented), tokens of a real length. */
function perMessageFields(i: number): Field[] {
  const name = i % 3 === 2 ? LATIN[i % LATIN.length]! : `${SURNAMES[i % SURNAMES.length]} ${GIVEN[(i * 7) % GIVEN.length]}`;
  const token = Buffer.from(`recipient-${i}-${"x".repeat(60)}`).toString("base64url");
  const url = `https://corp.example/newsletter/unsubscribe?list=product-news&campaign=2026-12-winter-update&u=${token}`;
  // Latin names that are atoms (header.ts writes them as they are) need no encoding.
  const nameEncoded = /^[\x20-\x7e]*$/.test(name) ? [] : [name];
  return [
    { name: "To", encoded: nameEncoded, tail: [...(nameEncoded.length ? [] : [{ sep: " ", text: name }]), { sep: " ", text: `<customer${i}@example.net>` }] },
    { name: "Subject", encoded: [`${name.split(" ").at(-1)}さん、${SUBJECT}`], tail: [] },
    { name: "Message-ID", encoded: [], tail: [{ sep: " ", text: `<${(i * 2654435761).toString(36)}.${i}@news.corp.example>` }] },
    { name: "List-Unsubscribe", encoded: [], tail: [{ sep: " ", text: `<${url}>,` }, { sep: " ", text: `<${MAILTO}>` }] },
  ];
}

const SHARED: Field[] = [
  { name: "From", encoded: ["株式会社サンプル プロダクトニュース"], tail: [{ sep: " ", text: "<news@corp.example>" }] },
  { name: "List-Id", encoded: ["Product News 製品ニュース"], tail: [{ sep: " ", text: "<product-news.corp.example>" }] },
  { name: "X-Campaign", encoded: ["2026-12 winter update — 冬のお知らせ"], tail: [] },
];

/** header.ts's budget for the words of field `name` (encodedPieces). */
const firstBudget = (name: string) => MAX_LINE - name.length - 2;

function ours(fields: readonly Field[]): number {
  let n = 0;
  for (const f of fields) {
    const pieces: Piece[] = [];
    for (const v of f.encoded) for (const text of encodeWords(v, firstBudget(f.name), MAX_WORD)) pieces.push({ sep: " ", text });
    n += foldPieces(f.name, [...pieces, ...f.tail]).field.length;
  }
  return n;
}

const Q_LITERAL = /[A-Za-z0-9!*+\-/ ]/g;

/** `v` as encoded-words of at most `budget` characters, joined by SP: B or Q, whichever is shorter (as ours picks). */
function libmimeWords(v: string, budget: number): string {
  const octets = Buffer.byteLength(v, "utf8");
  const q = 3 * octets - 2 * (v.match(Q_LITERAL)?.length ?? 0);
  const b = Math.ceil(octets / 3) * 4;
  return libmime.encodeWord(v, b < q ? "B" : "Q", budget);
}

/** libmime, as header.ts would call it: the shorter of B and Q, words within the same budget, foldLines at 78. */
function viaLibmime(fields: readonly Field[]): number {
  let n = 0;
  for (const f of fields) {
    let line = `${f.name}:`;
    for (const v of f.encoded) {
      line += ` ${libmimeWords(v, Math.min(firstBudget(f.name), MAX_WORD))}`;
    }
    for (const p of f.tail) line += p.sep + p.text;
    // foldLines folds a line of exactly its lineLength: 79 keeps lines of 78 whole.
    const folded = libmime.foldLines(line, MAX_LINE + 1);
    let longest = 0;
    for (const l of folded.split("\r\n")) longest = Math.max(longest, l.length);
    if (longest > 998) throw new Error("over 998");
    n += folded.length + 2;
  }
  return n;
}

/** The fields as header.ts folds them, words already encoded (ours): folding alone. */
function preEncoded(fields: readonly Field[]): Piece[][] {
  return fields.map((f) => {
    const pieces: Piece[] = [];
    for (const v of f.encoded) for (const text of encodeWords(v, firstBudget(f.name), MAX_WORD)) pieces.push({ sep: " ", text });
    return [...pieces, ...f.tail];
  });
}

function foldOurs(fields: readonly Field[], pieces: Piece[][]): number {
  let n = 0;
  for (let k = 0; k < fields.length; k++) n += foldPieces(fields[k]!.name, pieces[k]!).longest;
  return n;
}

function foldLibmime(fields: readonly Field[], pieces: Piece[][]): number {
  let n = 0;
  for (let k = 0; k < fields.length; k++) {
    let line = `${fields[k]!.name}:`;
    for (const p of pieces[k]!) line += p.sep + p.text;
    let longest = 0;
    for (const l of libmime.foldLines(line, MAX_LINE + 1).split("\r\n")) longest = Math.max(longest, l.length);
    n += longest;
  }
  return n;
}

/**
 * CPU µs (user + system, the process) per item of `f` over `items`, one whole loop
 * per rep (no clock read per message). CPU rather than wall time: on a shared
 * machine another process's turn on the core would count as ours.
 */
function cpuPer<T>(items: readonly T[], f: (x: T) => number): number {
  let sink = 0;
  const t0 = process.cpuUsage();
  for (const x of items) sink += f(x);
  const t = process.cpuUsage(t0);
  if (sink === 0) throw new Error("nothing produced");
  return (t.user + t.system) / items.length;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const perMessage = Array.from({ length: rowCount }, (_, i) => perMessageFields(i));
const full = perMessage.map((fs) => [...SHARED, ...fs]);
const folding = perMessage.map((fs) => ({ fs, pieces: preEncoded(fs) }));

// Both decode back to the same values (a sanity check; test/compose.test.ts holds the rules).
for (const fields of full.slice(0, 60)) {
  for (const f of fields) {
    for (const v of f.encoded) {
      const budget = Math.min(firstBudget(f.name), MAX_WORD);
      for (const words of [encodeWords(v, budget, MAX_WORD).join(" "), libmimeWords(v, budget)]) {
        if (libmime.decodeWords(words) !== v) throw new Error(`${f.name} does not decode back: ${words}`);
      }
    }
  }
}

const tmp = mkdtempSync(path.join(tmpdir(), "nl-headers-"));
try {
  const root = path.join(tmp, "repo");
  await writeSendRepo(root, rowCount, 5);
  const { plan, rows } = await benchPlan(root);
  const t = { oursPer: [] as number[], libPer: [] as number[], oursFull: [] as number[], libFull: [] as number[], oursFold: [] as number[], libFold: [] as number[], compose: [] as number[] };
  for (let rep = 0; rep < reps; rep++) {
    // Interleaved, so a noisy neighbour weighs on every case alike.
    t.oursPer.push(cpuPer(perMessage, ours));
    t.libPer.push(cpuPer(perMessage, viaLibmime));
    t.oursFull.push(cpuPer(full, ours));
    t.libFull.push(cpuPer(full, viaLibmime));
    t.oursFold.push(cpuPer(folding, (x) => foldOurs(x.fs, x.pieces)));
    t.libFold.push(cpuPer(folding, (x) => foldLibmime(x.fs, x.pieces)));
    t.compose.push(cpuPer(rows, (row) => plan.messageFor(row.address, row.row).raw.length));
  }
  const compose = median(t.compose);
  const line = (label: string, o: number, l: number) =>
    `${label.padEnd(12)} ours ${o.toFixed(2).padStart(6)} µs   libmime ${l.toFixed(2).padStart(6)} µs   ` +
    `libmime/ours ${(l / o).toFixed(2)}×   libmime costs ${(l - o).toFixed(2)} µs more = ${(((l - o) / compose) * 100).toFixed(1)} % of compose\n`;
  process.stdout.write(
    `${rowCount} recipients, ${reps} reps, medians, CPU µs per message (user + system)\n` +
      `compose per message (plan.messageFor, the send's fast path, our headers included): ${compose.toFixed(2)} µs\n` +
      line("per message", median(t.oursPer), median(t.libPer)) +
      line("full set", median(t.oursFull), median(t.libFull)) +
      line("folding only", median(t.oursFold), median(t.libFold)),
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
