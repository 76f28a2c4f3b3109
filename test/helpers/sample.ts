/**
 * The sample repository the tests start from: test/fixtures/sample, a copy
 * the tests own. Tests never read the live newsletters/, recipients/,
 * .github/newsletter.yml or .github/CODEOWNERS at the project root: an
 * organisation replaces those with its own, and its tests must still pass
 * (test/hermetic.test.ts).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SAMPLE_ROOT = path.join(PROJECT, "test", "fixtures", "sample");
export const SAMPLE_ID = "2026-12-01-winter-update";
export const SAMPLE_DIR = `newsletters/${SAMPLE_ID}`;

export const SAMPLE_FILES = [
  ".github/newsletter.yml",
  ".github/CODEOWNERS",
  `${SAMPLE_DIR}/newsletter.yml`,
  `${SAMPLE_DIR}/body.md`,
  "recipients/customers.csv",
  "recipients/suppressions.csv",
] as const;
