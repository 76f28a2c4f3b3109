/**
 * The Japanese sample newsletter (test/fixtures/ja-newsletter): a sender with
 * `locale: ja`, a brand colour, a newsletter whose Markdown breaks Japanese
 * lines, and a two-row list. Tests lay it over the sample repository.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { PROJECT } from "./sample.ts";

export const JA_FIXTURE = path.join(PROJECT, "test/fixtures/ja-newsletter");
export const JA_ID = "2026-12-01-fuyu-news";
export const JA_DIR = `newsletters/${JA_ID}`;

/** Every file of a folder (default the fixture), by repository path. */
export function fixtureFiles(dir = JA_FIXTURE, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const abs = path.join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    if (statSync(abs).isDirectory()) Object.assign(out, fixtureFiles(abs, rel));
    else out[rel] = readFileSync(abs, "utf8");
  }
  return out;
}
