/**
 * Repositories to benchmark, in a temporary folder: the tests' sample
 * (test/fixtures/sample: config, CODEOWNERS, the winter-update newsletter,
 * the suppression list; never the live repository's, which an organisation
 * replaces) with a
 * generated recipient list and, optionally, a replaced body. Lists are
 * written in batches, never built as one string: a million rows is ~50 MB.
 */
import { createWriteStream, cpSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { once } from "node:events";
import { PROJECT } from "./measure.ts";

export const SAMPLE_ID = "2026-12-01-winter-update";
export const SAMPLE_DIR = `newsletters/${SAMPLE_ID}`;
export const SAMPLE_ROOT = path.join(PROJECT, "test", "fixtures", "sample");
export const SAMPLE_FILES = [".github/newsletter.yml", ".github/CODEOWNERS", `${SAMPLE_DIR}/newsletter.yml`, `${SAMPLE_DIR}/body.md`, "recipients/suppressions.csv"];

export interface RepoSpec {
  /** The folder to create (must not exist or be empty). */
  root: string;
  /** `recipients/customers.csv`: header and one line per row, written as they come. */
  listHeader: string;
  listRows: number;
  listRow: (i: number) => string;
  /** Replaces the sample body.md when given. */
  body?: string;
}

export async function writeRepo(spec: RepoSpec): Promise<{ listBytes: number }> {
  for (const f of SAMPLE_FILES) {
    mkdirSync(path.dirname(path.join(spec.root, f)), { recursive: true });
    cpSync(path.join(SAMPLE_ROOT, f), path.join(spec.root, f));
  }
  if (spec.body !== undefined) writeFileSync(path.join(spec.root, SAMPLE_DIR, "body.md"), spec.body);
  const ws = createWriteStream(path.join(spec.root, "recipients/customers.csv"));
  let batch: string[] = [spec.listHeader];
  for (let i = 0; i < spec.listRows; i++) {
    batch.push(spec.listRow(i));
    if (batch.length >= 20_000) {
      if (!ws.write(batch.join("\n") + "\n")) await once(ws, "drain");
      batch = [];
    }
  }
  if (batch.length > 0) ws.write(batch.join("\n") + "\n");
  ws.end();
  await once(ws, "finish");
  return { listBytes: ws.bytesWritten };
}
