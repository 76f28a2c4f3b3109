/**
 * How long the recipient-list check takes on a generated list of 1,000,000
 * rows of `email,name,plan` (~40 bytes a row), fed in 1 MiB chunks as
 * fs.createReadStream would. Run: `npx tsx bench/list-parse.ts [rows]`.
 * Addresses are on reserved domains (RFC 2606); nothing is written to disk.
 */
import { extractAddresses } from "../src/detect/extract.ts";
import { checkRecipientList } from "../src/check/list.ts";
import { CsvParser, Utf8StreamDecoder } from "../src/load/csv.ts";

const rows = Number(process.argv[2] ?? 1_000_000);
const CHUNK = 1 << 20;

function generate(n: number): Uint8Array {
  const parts: string[] = ["email,name,plan\n"];
  for (let i = 0; i < n; i++) parts.push(`user${i}@example.com,User ${i},plan${i % 3}\n`);
  return new TextEncoder().encode(parts.join(""));
}

async function* chunks(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < bytes.length; o += CHUNK) yield bytes.subarray(o, o + CHUNK);
}

const bytes = generate(rows);
console.log(`${rows} rows, ${(bytes.length / 1e6).toFixed(1)} MB`);
for (let rep = 0; rep < 3; rep++) {
  let t = performance.now();
  let n = 0;
  const p = new CsvParser({ onRow: () => void n++, onError: () => undefined });
  const d = new Utf8StreamDecoder();
  for await (const c of chunks(bytes)) p.push(d.push(c));
  p.push(d.end());
  p.end();
  const parseMs = performance.now() - t;
  t = performance.now();
  const r = await checkRecipientList(chunks(bytes), {
    file: "recipients/bench.csv",
    suppressions: new Set(["user7@example.com"]),
    findAddresses: (s) => extractAddresses(s, { includeWeak: true }),
  });
  const checkMs = performance.now() - t;
  console.log(
    `run ${rep + 1}: decode+parse ${parseMs.toFixed(0)} ms (${n} records); full check ${checkMs.toFixed(0)} ms ` +
      `(valid ${r.valid}, send ${r.sendCount}, findings ${r.findings.length})`,
  );
}
