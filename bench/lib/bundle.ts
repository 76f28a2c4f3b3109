/**
 * Both send cases run as a user runs them — plain JavaScript under node, no
 * TypeScript loader: b through the `newsletter` launcher on the pre-built
 * bundle (bin/bundle.js; built here first when missing or stale, so the
 * numbers are never those of old code), a from send-bare.ts bundled the
 * same way (esbuild, its dependencies included), so neither pays tsx's
 * start and the comparison stays like for like.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { build } from "esbuild";
import { freshBundle } from "../../bin/bundle.js";
import { PROJECT } from "./measure.ts";

/** Builds dist/ when it does not match the sources; returns what the caller should print. */
export function ensureBundle(): string {
  if (freshBundle(PROJECT)) return "b runs the bundle in dist/ (built from these sources)";
  execFileSync(process.execPath, [path.join(PROJECT, "scripts/build.js")], { cwd: PROJECT, stdio: ["ignore", "ignore", "inherit"] });
  if (!freshBundle(PROJECT)) throw new Error("npm run build did not produce a bundle matching the sources");
  return "b runs the bundle in dist/ (built now: it was missing or stale)";
}

/** `entry` (a .ts file under the project) as one .mjs file in `outDir`; returns its path. */
export async function bundleScript(entry: string, outDir: string): Promise<string> {
  const outfile = path.join(outDir, `${path.basename(entry, ".ts")}.mjs`);
  await build({
    absWorkingDir: PROJECT,
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "warning",
    banner: { js: 'import { createRequire as __r } from "node:module"; const require = __r(import.meta.url);' },
  });
  return outfile;
}
