/**
 * The required status checks of the ruleset, listed in ONE place
 * (REQUIRED_CHECKS) and resolved against the workflow files, so a renamed
 * job or a status no workflow sets is an error instead of a required check
 * that never reports (and blocks every merge).
 *
 * What GitHub matches a required check against: the name of a check run, and
 * for GitHub Actions that is the job's `name:` (its id when it has none); or
 * the `context` of a commit status. Pure: takes the workflow texts.
 */
import { parse } from "yaml";
import { UnreadableInputError } from "../errors.ts";

export const WORKFLOW_DIR = ".github/workflows";

export type RequiredCheckSource =
  /** The check run of job `job` (its id under `jobs:`) in `workflow`. */
  | { readonly kind: "job"; readonly workflow: string; readonly job: string }
  /** The commit status `context` that a step of `workflow` sets. */
  | { readonly kind: "status"; readonly workflow: string; readonly context: string };

/**
 * Every check the ruleset requires. `approval copy` (newsletter-pr.yml) is not one: it
 * delivers mail, it checks nothing, and it is skipped on most pull requests.
 */
export const REQUIRED_CHECKS: readonly RequiredCheckSource[] = [
  { kind: "job", workflow: "ci.yml", job: "test" },
  { kind: "job", workflow: "ci.yml", job: "actionlint" },
  { kind: "job", workflow: "newsletter-pr.yml", job: "check" },
  { kind: "job", workflow: "newsletter-gate.yml", job: "gate" },
  { kind: "status", workflow: "newsletter-gate.yml", context: "newsletter/approvals" },
  { kind: "status", workflow: "newsletter-pr.yml", context: "newsletter/digest" },
];

export interface ResolvedCheck {
  /** What the ruleset requires: a check run name or a commit status context. */
  readonly context: string;
  readonly source: RequiredCheckSource;
}

export interface ResolvedChecks {
  readonly checks: readonly ResolvedCheck[];
  /** Cautions that do not stop setup (a path-filtered workflow, say). */
  readonly notes: readonly string[];
}

interface Job {
  name?: unknown;
  strategy?: unknown;
  steps?: unknown;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The `pull_request` trigger of a workflow: undefined when it has none, else its filter object ({} for none). */
function pullRequestTrigger(on: unknown): Record<string, unknown> | undefined {
  const names = ["pull_request", "pull_request_target"];
  if (typeof on === "string") return names.includes(on) ? {} : undefined;
  if (Array.isArray(on)) return on.some((x) => names.includes(x)) ? {} : undefined;
  const o = obj(on);
  const key = names.find((n) => o !== undefined && n in o);
  if (!o || key === undefined) return undefined;
  return obj(o[key]) ?? {};
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** Every string value under `v` (step `run:` scripts, `with:` inputs). */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (obj(v)) for (const x of Object.values(obj(v)!)) strings(x, out);
  return out;
}

/**
 * Resolves REQUIRED_CHECKS (or `sources`) against the workflow texts, keyed by
 * file name (`ci.yml`). A missing file or job, a matrix job (its checks are
 * named per combination), a computed job name, a workflow without a
 * `pull_request` trigger or a status no step sets → UnreadableInputError
 * naming the file.
 */
export function resolveRequiredChecks(
  workflows: ReadonlyMap<string, string>,
  sources: readonly RequiredCheckSource[] = REQUIRED_CHECKS,
): ResolvedChecks {
  const checks: ResolvedCheck[] = [];
  const notes: string[] = [];
  const parsed = new Map<string, Record<string, unknown>>();
  const noted = new Set<string>();
  for (const source of sources) {
    const file = `${WORKFLOW_DIR}/${source.workflow}`;
    const fail = (why: string): never => {
      throw new UnreadableInputError(file, `setup: ${file}: ${why}`);
    };
    let wf = parsed.get(source.workflow);
    if (!wf) {
      const text = workflows.get(source.workflow);
      if (text === undefined) fail("missing; the ruleset requires its checks");
      let data: unknown;
      try {
        data = parse(text!);
      } catch (e) {
        fail(`not valid YAML (${(e as Error).message.split("\n")[0]})`);
      }
      wf = obj(data) ?? fail("not a workflow (no mapping at the top)");
      parsed.set(source.workflow, wf);
    }
    // `on:` may be read by YAML 1.1 parsers as true; `yaml` (1.2) keeps the key "on".
    const trigger = pullRequestTrigger(wf["on"]);
    if (trigger === undefined) fail("has no pull_request trigger: its checks never report on a pull request");
    const filters = ["paths", "paths-ignore", "branches", "branches-ignore"].filter((k) => k in trigger!);
    if (filters.length > 0 && !noted.has(source.workflow)) {
      noted.add(source.workflow);
      notes.push(
        `${file} runs only on pull requests matching its ${filters.join("/")} filter; GitHub leaves a required check of a workflow that did not run pending, so a pull request outside the filter cannot merge until the check reports`,
      );
    }
    const jobs = obj(wf["jobs"]) ?? fail("has no jobs");
    if (source.kind === "job") {
      const job = obj(jobs[source.job]) as Job | undefined;
      if (!job) fail(`has no job ${JSON.stringify(source.job)}`);
      if (obj(job!.strategy)?.["matrix"] !== undefined) {
        fail(`job ${JSON.stringify(source.job)} has a matrix: its checks are named per combination`);
      }
      const name = job!.name === undefined ? source.job : job!.name;
      if (typeof name !== "string" || name.trim() === "" || name.includes("${{")) {
        fail(`job ${JSON.stringify(source.job)} has no fixed name (check runs are named after it)`);
      }
      checks.push({ context: name as string, source });
    } else {
      // The workflows set statuses with `gh api .../statuses/SHA -f context=X` or a script's `context: "X"`.
      const re = new RegExp(`\\bcontext["']?\\s*[=:]\\s*["']?${escapeRe(source.context)}(?![\\w./-])`);
      const sets = Object.values(jobs).some((j) => strings(obj(j)?.["steps"]).some((s) => re.test(s)));
      if (!sets) fail(`no step sets the commit status ${JSON.stringify(source.context)}`);
      checks.push({ context: source.context, source });
    }
  }
  const seen = new Set<string>();
  const unique = checks.filter((c) => (seen.has(c.context) ? false : (seen.add(c.context), true)));
  return { checks: unique, notes };
}
