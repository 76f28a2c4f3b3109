/**
 * The layer order of src/ (docs/design.md, "Layers"), enforced on the import graph.
 *
 * Every relative import counts: `import`, `import type`, `export … from` and
 * dynamic `import()` with a literal specifier (TypeScript's own pre-processor
 * reads them, so comments and strings never count). A folder is the first path
 * segment under src/; a file directly in src/ is a unit of its own (`errors.ts`).
 * The rules: every folder sits in exactly one layer; no folder imports one in a
 * higher layer; folders of one layer may import each other, but no two folders
 * anywhere import each other, directly or round a longer cycle.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";

/** Bottom → top. Stated once; the design's "Layers" section says the same in words. */
const LAYERS: readonly (readonly string[])[] = [
  // Foundations: errors, findings and their rules, address handling, the digest, the CODEOWNERS
  // parser, the secret, the mail port (envelope and transport contract), and Io and the version.
  ["errors.ts", "findings", "address", "digest", "codeowners", "keys", "mail", "runtime"],
  // Pure libraries the stages share: address detectors and decoders, the template, the object-store port.
  ["detect", "render", "store"],
  // What the stages read: the repository's files, the ledger of earlier sends, suppressions.
  ["load", "ledger", "suppress"],
  // load → check; the gate's rules; message composition; the transport and state adapters.
  ["check", "gate", "compose", "transport", "state"],
  // check → guard; the manifest, reports, pictures, unsubscribe pages; gate → setup, audit.
  ["guard", "manifest", "report", "picture", "unsubscribe", "setup", "audit"],
  // guard → send; the GitHub adapters of the gate's and setup's ports.
  ["send", "github"],
  // The composition module: where the adapters are built for the entry points.
  ["wiring"],
  // Entry points, siblings that never import each other (test/wiring.test.ts).
  ["actions", "cli"],
];

/**
 * Known upward imports, each named with the change that removes it; an exception no longer needed
 * fails the test. None today (`actions` → `cli` went when the composition module, `wiring`, landed).
 */
const TEMPORARY_EXCEPTIONS: readonly (readonly [from: string, to: string])[] = [];

type Edge = { from: string; to: string };

/** Relative specifiers a module imports, by TypeScript's pre-processor (type-only and dynamic included). */
function relativeImports(text: string): string[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((s) => s.startsWith("./") || s.startsWith("../"));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(p);
    return /\.(m?ts|tsx)$/.test(d.name) && !d.name.endsWith(".d.ts") ? [p] : [];
  });
}

/** File-level edges under `srcDir`, as paths relative to it with `/`; imports leaving srcDir are left out. */
function importEdges(srcDir: string): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(srcDir)) {
    for (const spec of relativeImports(readFileSync(file, "utf8"))) {
      const to = path.relative(srcDir, path.resolve(path.dirname(file), spec));
      if (to.startsWith("..")) continue; // e.g. ../../package.json
      edges.push({ from: path.relative(srcDir, file).split(path.sep).join("/"), to: to.split(path.sep).join("/") });
    }
  }
  return edges;
}

const unitOf = (file: string): string => file.split("/")[0]!;

/** Every breach of the order, one line each (empty: the graph keeps it). */
function layerProblems(
  edges: readonly Edge[],
  layers: readonly (readonly string[])[],
  exceptions: readonly (readonly [string, string])[],
): string[] {
  const problems: string[] = [];
  const layerOf = new Map<string, number>();
  layers.forEach((folders, i) =>
    folders.forEach((f) => {
      if (layerOf.has(f)) problems.push(`${f} is listed in two layers`);
      layerOf.set(f, i);
    }),
  );
  const byPair = new Map<string, Edge>();
  const units = new Set<string>();
  for (const e of edges) {
    const [a, b] = [unitOf(e.from), unitOf(e.to)];
    units.add(a).add(b);
    if (a !== b && !byPair.has(`${a}\0${b}`)) byPair.set(`${a}\0${b}`, e);
  }
  for (const u of [...units].sort()) if (!layerOf.has(u)) problems.push(`${u} is in no layer: place it in LAYERS`);
  for (const f of layerOf.keys()) if (!units.has(f)) problems.push(`${f} is in LAYERS but not in the graph: remove it`);
  const excused = new Set(exceptions.map(([a, b]) => `${a}\0${b}`));
  for (const [pair, e] of byPair) {
    const [a, b] = pair.split("\0") as [string, string];
    const [la, lb] = [layerOf.get(a), layerOf.get(b)];
    if (la === undefined || lb === undefined || la >= lb) continue;
    if (!excused.has(pair)) problems.push(`upward: ${a} (layer ${la + 1}) imports ${b} (layer ${lb + 1}): ${e.from} → ${e.to}`);
  }
  for (const [a, b] of exceptions) {
    const pair = `${a}\0${b}`;
    const [la, lb] = [layerOf.get(a) ?? -1, layerOf.get(b) ?? -1];
    if (!byPair.has(pair) || la >= lb) problems.push(`exception ${a} → ${b} is no longer needed: remove it`);
  }
  for (const cycle of folderCycles([...byPair.keys()].map((k) => k.split("\0") as [string, string]))) {
    const inside = [...byPair.entries()].filter(([k]) => k.split("\0").every((u) => cycle.includes(u))).map(([, e]) => e);
    problems.push(`cycle: ${cycle.join(" ↔ ")} (${inside.map((e) => `${e.from} → ${e.to}`).join("; ")})`);
  }
  return problems;
}

/** Strongly connected components of more than one folder (Tarjan), each sorted. */
function folderCycles(pairs: readonly (readonly [string, string])[]): string[][] {
  const next = new Map<string, string[]>();
  for (const [a, b] of pairs) next.set(a, [...(next.get(a) ?? []), b]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1) out.push(scc.sort());
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

describe("the layer order of src/", () => {
  it("holds: no upward import, no cycle between folders, every folder placed", () => {
    const edges = importEdges(fileURLToPath(new URL("../src", import.meta.url)));
    expect(edges.length).toBeGreaterThan(500); // the walk found the code
    expect(layerProblems(edges, LAYERS, TEMPORARY_EXCEPTIONS)).toEqual([]);
  });
});

describe("the layer rules, on synthetic graphs", () => {
  const base: Edge[] = [
    { from: "high/h.ts", to: "mid/m.ts" },
    { from: "mid/m.ts", to: "low/l.ts" },
    { from: "side/s.ts", to: "mid/m.ts" },
  ];
  const layers = [["low"], ["mid", "side"], ["high"]];
  const cases: { name: string; edges: Edge[]; layers?: string[][]; exceptions?: [string, string][]; expected: RegExp[] }[] = [
    { name: "the base world keeps the order", edges: base, expected: [] },
    { name: "an upward import", edges: [...base, { from: "low/l.ts", to: "high/h.ts" }], expected: [/^upward: low \(layer 1\) imports high \(layer 3\): low\/l\.ts → high\/h\.ts$/, /^cycle: high ↔ low ↔ mid/] },
    { name: "two same-layer folders importing each other through different files", edges: [...base, { from: "mid/m2.ts", to: "side/s2.ts" }], expected: [/^cycle: mid ↔ side/] },
    { name: "a same-layer import, no cycle", edges: [{ from: "mid/m.ts", to: "side/s.ts" }, { from: "side/s.ts", to: "low/l.ts" }, { from: "high/h.ts", to: "mid/m.ts" }], expected: [] },
    { name: "a cycle inside one layer", edges: [{ from: "mid/m.ts", to: "side/s.ts" }, { from: "side/s.ts", to: "mid/m.ts" }, { from: "high/h.ts", to: "low/l.ts" }], expected: [/^cycle: mid ↔ side \(mid\/m\.ts → side\/s\.ts; side\/s\.ts → mid\/m\.ts\)$/] },
    { name: "a folder in no layer", edges: [...base, { from: "new/n.ts", to: "low/l.ts" }], expected: [/^new is in no layer/] },
    { name: "a layer entry with no folder", edges: base, layers: [...layers, ["gone"]], expected: [/^gone is in LAYERS but not in the graph/] },
    { name: "a folder in two layers", edges: base, layers: [["low"], ["mid", "side"], ["high", "mid"]], expected: [/^mid is listed in two layers/, /^upward: side \(layer 2\) imports mid \(layer 3\)/] },
    { name: "an excused upward import", edges: [...base, { from: "side/s.ts", to: "high/h.ts" }], exceptions: [["side", "high"]], expected: [] },
    { name: "an exception no longer needed", edges: base, exceptions: [["side", "high"]], expected: [/^exception side → high is no longer needed/] },
  ];
  it.each(cases)("$name", ({ edges, layers: l, exceptions, expected }) => {
    const problems = layerProblems(edges, l ?? layers, exceptions ?? []);
    expect(problems).toHaveLength(expected.length);
    expected.forEach((re, i) => expect(problems[i]).toMatch(re));
  });
});

describe("the walk sees every kind of relative import", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "layers-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const kinds: { name: string; source: string }[] = [
    { name: "import type", source: `import type { H } from "../high/h.ts";\nexport type L = H;\n` },
    { name: "a type-only specifier", source: `import { type H } from "../high/h.ts";\nexport type L = H;\n` },
    { name: "dynamic import()", source: `export async function l() {\n  return (await import("../high/h.ts")).h;\n}\n` },
    { name: "export … from", source: `export { h } from "../high/h.ts";\n` },
    { name: "a side-effect import", source: `import "../high/h.ts";\n` },
  ];
  it.each(kinds)("$name of a higher layer fails", ({ name, source }) => {
    const src = path.join(dir, name.replace(/\W+/g, "-"));
    mkdirSync(path.join(src, "low"), { recursive: true });
    mkdirSync(path.join(src, "high"), { recursive: true });
    writeFileSync(path.join(src, "high/h.ts"), `export const h = 1;\nexport type H = number;\n`);
    writeFileSync(path.join(src, "low/l.ts"), `// import "../high/h.ts" in a comment does not count\nconst s = 'import("../high/h.ts")';\n${source}`);
    expect(layerProblems(importEdges(src), [["low"], ["high"]], [])).toEqual(["upward: low (layer 1) imports high (layer 2): low/l.ts → high/h.ts"]);
  });
  it("comments and strings alone are not imports", () => {
    const src = path.join(dir, "comment-only");
    mkdirSync(path.join(src, "low"), { recursive: true });
    mkdirSync(path.join(src, "high"), { recursive: true });
    writeFileSync(path.join(src, "high/h.ts"), `import "../low/l.ts";\n`);
    writeFileSync(path.join(src, "low/l.ts"), `// import "../high/h.ts"\nexport const s = 'import("../high/h.ts")';\n`);
    expect(layerProblems(importEdges(src), [["low"], ["high"]], [])).toEqual([]);
  });
});
