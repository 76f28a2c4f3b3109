/**
 * Which repository paths the gate protects, and how.
 *
 * - The gate's own inputs are read from the base branch (docs/design.md, "The approval gate"): CODEOWNERS
 *   (any of the locations GitHub searches, codeowners/codeowners.ts) and the gate
 *   configuration `.github/newsletter.yml`; a PR that changes them, or anything
 *   else under `.github/` (the workflows that run the gate and the send), is
 *   refused.
 * - What is sent comes from `newsletters/` and `recipients/`: the merged tree
 *   must equal the reviewed head there and under `.github/` ("What was approved is what is sent").
 *
 * Comparison is case-insensitive: GitHub's file system is case-sensitive, but
 * refusing `.GitHub/x` as well costs nothing and rules out any platform that
 * folds case.
 */
import { CONFIG_FILE } from "../load/config.ts";
import { CODEOWNERS_LOCATIONS } from "../codeowners/codeowners.ts";

export type PathClass = "codeowners" | "gate-config" | "github-dir" | "content" | "other";

const CODEOWNERS = new Set<string>(CODEOWNERS_LOCATIONS.map((p) => p.toLowerCase()));
const CONTENT_DIRS = ["newsletters/", "recipients/"] as const;

export function classifyPath(path: string): PathClass {
  const p = path.replace(/^\/+/, "").toLowerCase();
  if (CODEOWNERS.has(p)) return "codeowners";
  if (p === CONFIG_FILE.toLowerCase()) return "gate-config";
  if (p.startsWith(".github/")) return "github-dir";
  if (CONTENT_DIRS.some((d) => p.startsWith(d))) return "content";
  return "other";
}

/** Paths whose content in the merged tree must equal the reviewed head's. */
export function mustMatchReviewedHead(path: string): boolean {
  return classifyPath(path) !== "other";
}
