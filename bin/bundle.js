// Which code runs: the pre-built bundle in dist/ when it was built from
// exactly the sources in this checkout, else the TypeScript sources through
// tsx's loader. Plain JavaScript on purpose: it runs before any loader.
//
// Why a bundle at all: through tsx every module of the program and of its
// dependencies goes through the loader's hooks (a second thread, a message
// per import) — most of a send's start, measured with node --cpu-prof
// (bench/README.md, "Figures behind the code"). One pre-built file per
// entry loads in a fraction of that.
//
// Why a hash: a stale bundle must never run. The build (scripts/build.js)
// writes the hash of every input it was made from into dist/BUILD.json; the
// launcher computes the same hash over the checkout at every start (cheap
// next to what the bundle saves) and uses the bundle only on an exact match. Any
// edit, checkout or `npm ci` of other versions makes it fall back to the
// sources, never to old code.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DIST = path.join(ROOT, "dist");

/** Every input of the build, relative to the root: the sources, the dependency versions, the build itself. */
const INPUT_FILES = ["package.json", "package-lock.json", "tsconfig.json", "bin/bundle.js", "scripts/build.js"];
const INPUT_DIRS = ["src"];

/** sha256 over the inputs' paths and contents, in a fixed order. */
export function sourceHash(root = ROOT) {
  const h = createHash("sha256");
  const add = (rel) => {
    let data;
    try {
      data = readFileSync(path.join(root, rel));
    } catch {
      data = null; // a missing input is part of the state hashed
    }
    h.update(`${rel}\0${data === null ? "-" : data.length}\0`);
    if (data !== null) h.update(data);
  };
  for (const f of INPUT_FILES) add(f);
  for (const d of INPUT_DIRS) for (const f of listFiles(root, d)) add(f);
  return h.digest("hex");
}

function listFiles(root, dir) {
  const out = [];
  const walk = (rel) => {
    let entries;
    try {
      entries = readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) out.push(r);
    }
  };
  walk(dir);
  return out;
}

/** The bundle's manifest when it matches this checkout, else null (also when NEWSLETTER_NO_BUNDLE=1). */
export function freshBundle(root = ROOT) {
  if (process.env.NEWSLETTER_NO_BUNDLE === "1") return null;
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(root, "dist", "BUILD.json"), "utf8")); // root's own dist/, not DIST (tests pass a copy)
  } catch {
    return null;
  }
  if (typeof manifest?.hash !== "string" || manifest.hash !== sourceHash(root)) return null;
  return manifest;
}

/** Shared with src/send/build-pool.ts: where the bundled compose thread is, when the bundle runs. */
export const BUNDLE_KEY = Symbol.for("gitops-newsletter.bundle");

/**
 * Runs entry `name` ("cli/bin", "cli/start", "actions/bin"): its bundled
 * file when fresh, else src/<name>.ts through tsx.
 */
export async function launch(name) {
  if (freshBundle(ROOT)) {
    // Stack traces (shown only with NEWSLETTER_DEBUG=1) then name the .ts lines, not the chunks'.
    if (process.env.NEWSLETTER_DEBUG === "1") process.setSourceMapsEnabled(true);
    globalThis[BUNDLE_KEY] = { worker: pathToFileURL(path.join(DIST, "send", "build-worker.mjs")).href };
    await import(pathToFileURL(path.join(DIST, `${name}.mjs`)).href);
    return;
  }
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(path.join(ROOT, "src", `${name}.ts`)).href);
}
