/**
 * The two kinds of entry point are siblings (docs/design.md, "Layers"): the
 * CLI's commands (src/cli) and the Actions steps (src/actions) never import
 * each other; both take their wiring from src/wiring and their streams and
 * version from src/runtime, which import neither of them. The whole import
 * graph's order is test/layers.test.ts's business; this is the part that
 * concerns the composition module.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { visibilityOf } from "../src/wiring/deps.ts";

const SRC = path.resolve(import.meta.dirname, "../src");

/** Every relative import (static or `import()`) of every .ts file under `dir`, resolved to a path under src/. */
function importsUnder(dir: string): Array<{ from: string; to: string }> {
  const out: Array<{ from: string; to: string }> = [];
  for (const e of readdirSync(path.join(SRC, dir), { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith(".ts")) continue;
    const file = path.join(e.parentPath, e.name);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*)"(\.{1,2}\/[^"]+)"/g)) {
      out.push({ from: path.relative(SRC, file), to: path.relative(SRC, path.resolve(path.dirname(file), m[1]!)) });
    }
  }
  return out;
}

const into = (folder: string) => (i: { to: string }) => i.to === folder || i.to.startsWith(`${folder}/`);

describe("the composition module: cli and actions are siblings", () => {
  it.each([
    ["actions", "cli"],
    ["cli", "actions"],
    ["wiring", "cli"],
    ["wiring", "actions"],
    ["runtime", "cli"],
    ["runtime", "actions"],
    ["runtime", "wiring"],
  ])("nothing in src/%s imports from src/%s", (from, to) => {
    const found = importsUnder(from).filter(into(to));
    expect(found.map((i) => `${i.from} -> ${i.to}`)).toEqual([]);
  });

  it("the scan sees imports (a scan that finds nothing proves nothing)", () => {
    expect(importsUnder("actions").filter(into("wiring")).length).toBeGreaterThan(0);
    expect(importsUnder("cli").filter(into("wiring")).length).toBeGreaterThan(0);
    expect(importsUnder("cli").filter(into("runtime")).length).toBeGreaterThan(0);
  });
});

describe("the repository's visibility, from an event an Actions step has already read", () => {
  it.each([
    [{ repository: { private: true, visibility: "internal" } }, "internal"],
    [{ repository: { private: false } }, "public"],
    [{ repository: { private: true } }, "private"],
    [{ repository: { visibility: "secret" } }, null],
    [{ pull_request: {} }, null],
    [null, null],
  ])("%j: %s", (event, visibility) => {
    expect(visibilityOf(event)).toBe(visibility);
  });
});
