/**
 * package.json `engines.node` is true to what the dependencies declare: the
 * lowest Node.js it admits satisfies every installed package's own
 * `engines.node` (package-lock.json), so `npm ci` on a supported Node.js
 * prints no EBADENGINE warning. (These machines run Node 20, below it; the
 * suite passes there too, which is all .ci/run asks.)
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT } from "./helpers/sample.ts";

type Version = [number, number, number];

function parse(v: string): Version {
  const [a = 0, b = 0, c = 0] = v.trim().replace(/^v/, "").split(".").map((x) => Number.parseInt(x, 10) || 0);
  return [a, b, c];
}
function cmp(x: Version, y: Version): number {
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}
/** One comparator of npm's range grammar, as far as the lock file uses it: >=, >, <=, <, ^, ~, =, bare, and x/* wildcards. */
function test1(v: Version, comp: string): boolean {
  const plain = comp.trim().replace(/\.[xX*]/g, "");
  if (plain === "*" || plain === "x" || plain === "X") return true;
  const m = /^(>=|<=|>|<|\^|~|=)?\s*(\d+(?:\.\d+){0,2})$/.exec(plain);
  if (!m) throw new Error(`range comparator not understood: ${comp}`);
  const op = m[1] ?? "=";
  const parts = m[2]!.split(".").length;
  const w = parse(m[2]!);
  const c = cmp(v, w);
  switch (op) {
    case ">=": return c >= 0;
    case ">": return c > 0;
    case "<=": return c <= 0;
    case "<": return c < 0;
    case "^": return c >= 0 && (w[0] > 0 ? v[0] === w[0] : w[1] > 0 ? v[0] === 0 && v[1] === w[1] : cmp(v, w) === 0);
    case "~": return c >= 0 && v[0] === w[0] && (parts < 2 || v[1] === w[1]);
    default: return parts === 1 ? v[0] === w[0] : parts === 2 ? v[0] === w[0] && v[1] === w[1] : c === 0;
  }
}
export function satisfies(v: string, range: string): boolean {
  const ver = parse(v);
  return range.split("||").some((alt) => alt.trim().replace(/(>=|<=|>|<)\s+/g, "$1").split(/\s+/).every((c) => test1(ver, c)));
}

const pkg = JSON.parse(readFileSync(path.join(PROJECT, "package.json"), "utf8")) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(path.join(PROJECT, "package-lock.json"), "utf8")) as {
  packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean }>;
};

/** The lowest version `range` admits, from the lower bounds it names. */
function lowest(range: string): string {
  const candidates = [...range.matchAll(/(?:>=|\^|~)?\s*(\d+(?:\.\d+){0,2})/g)].map((m) => parse(m[1]!).join(".")).sort((a, b) => cmp(parse(a), parse(b)));
  const first = candidates.find((c) => satisfies(c, range));
  if (!first) throw new Error(`no lower bound in ${range}`);
  return first;
}

describe("package.json engines", () => {
  it("the range checker reads npm's ranges", () => {
    expect(satisfies("20.20.2", ">=20")).toBe(true);
    expect(satisfies("20.20.2", "*")).toBe(true);
    expect(satisfies("20.20.2", ">=22")).toBe(false);
    expect(satisfies("22.12.0", "^20.19.0 || >=22.12.0")).toBe(true);
    expect(satisfies("22.11.0", "^20.19.0 || >=22.12.0")).toBe(false);
    expect(satisfies("0.7.1", ">=0.6.11 <=0.7.0 || >=0.7.3")).toBe(false);
    expect(satisfies("14.13.0", "^12.17.0 || ^14.13 || >=16.0.0")).toBe(true);
    expect(satisfies("22.13.0", "*")).toBe(true);
    expect(satisfies("22.13.0", ">=0.6.x")).toBe(true);
    expect(satisfies("0.5.9", ">=0.6.x")).toBe(false);
  });

  it("admits no Node.js that a dependency does not support", () => {
    const floor = lowest(pkg.engines.node);
    const unmet: string[] = [];
    for (const [where, p] of Object.entries(lock.packages)) {
      const range = !Array.isArray(p.engines) ? p.engines?.node : undefined;
      if (where === "" || !range) continue;
      if (!satisfies(floor, range)) unmet.push(`${where.replace(/^.*node_modules\//, "")} needs ${range}`);
    }
    expect(unmet, `engines.node "${pkg.engines.node}" admits ${floor}`).toEqual([]);
  });
});
