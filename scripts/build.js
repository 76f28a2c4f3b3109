#!/usr/bin/env node
// `npm run build` (also run by `npm ci` through `prepare`): bundles each
// entry point and its dependencies with esbuild into dist/, and records the
// hash of the inputs it was built from (bin/bundle.js) so that the launchers
// run it only while the checkout still matches. Type checking stays with
// `npm run typecheck`: esbuild strips types without checking them.
//
// Built into a fresh folder and swapped in at the end: a launcher never sees
// a half-written bundle next to a matching BUILD.json.
import { build } from "esbuild";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DIST, ROOT, sourceHash } from "../bin/bundle.js";

const ENTRIES = ["cli/bin", "cli/start", "actions/bin", "send/build-worker"];

async function main() {
  const hash = sourceHash(ROOT);
  const tmp = `${DIST}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await build({
      absWorkingDir: ROOT,
      entryPoints: Object.fromEntries(ENTRIES.map((e) => [e, `src/${e}.ts`])),
      outdir: tmp,
      bundle: true,
      splitting: true, // the commands stay lazily loaded (cli/main.ts), as from the sources
      format: "esm",
      platform: "node",
      target: "node20",
      outExtension: { ".js": ".mjs" },
      chunkNames: "chunks/[name]-[hash]",
      sourcemap: "linked", // stack traces (NEWSLETTER_DEBUG=1) name the .ts lines
      sourcesContent: false,
      legalComments: "none",
      // playwright-core finds its own files next to itself (__dirname): loaded from node_modules, not bundled.
      external: ["playwright-core"],
      logLevel: "warning",
      // Dependencies written as CommonJS call `require`; an ES module has none of its own.
      banner: { js: 'import { createRequire as __newsletterRequire } from "node:module"; const require = __newsletterRequire(import.meta.url);' },
    });
    writeFileSync(path.join(tmp, "BUILD.json"), `${JSON.stringify({ hash, entries: ENTRIES, built: new Date().toISOString() }, null, 2)}\n`);
    rmSync(DIST, { recursive: true, force: true });
    renameSync(tmp, DIST);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  process.stderr.write(`built ${path.relative(ROOT, DIST)}/ (${ENTRIES.length} entries, inputs ${hash.slice(0, 12)})\n`);
}

await main();
