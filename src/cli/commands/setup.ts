/**
 * `setup [--dry-run] [--format json]`: applies, idempotently, the two
 * repository rulesets (src/setup/): `newsletter` on the default branch (the
 * gate's first fence, its required checks each pinned to the app that
 * reports them) and `newsletter-state` on the state branch (no update,
 * deletion or force push but by the production deploy key); then reads the
 * deployment-branch policy of both environments and reports any that is open
 * (docs/design.md, "Trust boundary"). Exit 0 when the rulesets are in place
 * (or, dry run, shown) and both environments admit only the default branch;
 * 1 when an environment is open, missing or unreadable (fix it by hand, run
 * again); 2 for a usage error, an unreadable configuration or workflow, or
 * any API error (the token must be allowed to administer the repository).
 *
 * Inputs are read once, here, into SetupInputs: GITHUB_TOKEN,
 * GITHUB_REPOSITORY, GITHUB_API_URL, NEWSLETTER_APP_ID (the App that posts
 * the newsletter/* statuses), NEWSLETTER_STATE_BRANCH (default
 * newsletter-state), `.github/newsletter.yml` (the number of stages) and the
 * workflow files (the required checks). Every failure is a NewsletterError
 * that main.ts prints: one failure path.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { UnreadableInputError, UsageError } from "../../errors.ts";
import { createGitHubClient, gitHubClientOptionsFromEnv, type GitHubClientOptions } from "../../github/client.ts";
import { explainGitHubFailure } from "../../github/explain.ts";
import { GitHubRulesetPort } from "../../github/ruleset-adapter.ts";
import { SetupError } from "../../setup/errors.ts";
import { CONFIG_FILE, parseConfig } from "../../load/config.ts";
import { applyRuleset, type SetupOutcome } from "../../setup/apply.ts";
import { REQUIRED_CHECKS, resolveRequiredChecks, WORKFLOW_DIR, type ResolvedCheck } from "../../setup/checks.ts";
import { ENVIRONMENTS, environmentFinding, type EnvironmentFinding } from "../../setup/environments.ts";
import { approvalsFor, desiredRuleset, GITHUB_ACTIONS_APP_ID, stateRuleset, type RequiredCheck, type RulesetBody } from "../../setup/ruleset.ts";
import type { CliInput } from "../args.ts";
import type { Io } from "../../runtime/io.ts";
import { TOOL_VERSION } from "../../runtime/version.ts";

export interface SetupInputs {
  readonly github: Pick<GitHubClientOptions, "token" | "repo" | "apiUrl">;
  readonly dryRun: boolean;
  readonly format: "text" | "json";
  /** Approval stages in `.github/newsletter.yml`. */
  readonly stageCount: number;
  /** Workflow file name (`ci.yml`) → text, for the workflows REQUIRED_CHECKS names. */
  readonly workflows: ReadonlyMap<string, string>;
  /** NEWSLETTER_APP_ID: the App that posts newsletter/approvals and newsletter/digest; null when none is configured. */
  readonly appId: number | null;
  /** The state branch (NEWSLETTER_STATE_BRANCH, default newsletter-state). */
  readonly stateBranch: string;
}

function readText(root: string, rel: string): string | undefined {
  try {
    return readFileSync(path.join(root, rel), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new UnreadableInputError(rel, `setup: cannot read ${rel}: ${(e as Error).message}`, 1, 1, { cause: e });
  }
}

/** Everything setup reads, read once. */
export function readSetupInputs(input: Extract<CliInput, { command: "setup" }>, env: Io["env"]): SetupInputs {
  if (!env["GITHUB_TOKEN"]) {
    throw new UsageError("GITHUB_TOKEN is not set: setup needs a token that may administer the repository (an admin's token, or a GitHub App with Administration: write)");
  }
  const github = gitHubClientOptionsFromEnv(env as NodeJS.ProcessEnv);
  const configText = readText(input.root, CONFIG_FILE);
  if (configText === undefined) throw new UnreadableInputError(CONFIG_FILE, `setup: ${CONFIG_FILE} does not exist under ${input.root}`);
  const { config, findings } = parseConfig(configText, CONFIG_FILE);
  if (!config) {
    const first = findings.find((f) => f.severity === "error");
    throw new UnreadableInputError(CONFIG_FILE, `setup: ${CONFIG_FILE} is invalid${first ? ` (line ${first.line}: ${first.message})` : ""}; run \`check\``, first?.line ?? 1, first?.column ?? 1);
  }
  const workflows = new Map<string, string>();
  for (const name of new Set(REQUIRED_CHECKS.map((c) => c.workflow))) {
    const text = readText(input.root, `${WORKFLOW_DIR}/${name}`);
    if (text !== undefined) workflows.set(name, text);
  }
  const appText = env["NEWSLETTER_APP_ID"]?.trim();
  if (appText && !/^[1-9][0-9]{0,9}$/.test(appText)) throw new UsageError(`NEWSLETTER_APP_ID must be the GitHub App's numeric id, got ${JSON.stringify(appText)}`);
  const appId = appText ? Number(appText) : null;
  const stateBranch = env["NEWSLETTER_STATE_BRANCH"]?.trim() || "newsletter-state";
  return { github, dryRun: input.dryRun, format: input.format, stageCount: config.approvals.stages.length, workflows, appId, stateBranch };
}

/**
 * Each required check pinned to the app that reports it: a job's check run to GitHub Actions;
 * the newsletter/* commit statuses to the newsletter App, which posts them with a key only the
 * default branch's workflows can use. Without an App they are GitHub Actions' too, and a note
 * says that any branch's workflow can then forge them.
 */
export function pinnedChecks(resolved: readonly ResolvedCheck[], appId: number | null): { checks: RequiredCheck[]; notes: string[] } {
  const notes: string[] = [];
  const checks = resolved.map((c) => ({
    context: c.context,
    integration_id: c.source.kind === "status" && appId !== null ? appId : GITHUB_ACTIONS_APP_ID,
  }));
  if (appId === null && resolved.some((c) => c.source.kind === "status")) {
    notes.push(
      "NEWSLETTER_APP_ID is not set: the newsletter/* statuses are pinned to GitHub Actions, which any branch's workflow runs as; " +
        "set up the GitHub App (README, step 3) and run setup again with NEWSLETTER_APP_ID so only the App's statuses count",
    );
  }
  return { checks, notes };
}

function formatOutcome(lines: string[], where: string, o: SetupOutcome): void {
  const what = `Ruleset ${JSON.stringify(o.name)}${o.id !== null ? ` (id ${o.id})` : ""} on ${where}`;
  if (o.action === "unchanged") {
    lines.push(`${what}: up to date, no write request made`);
  } else if (o.dryRun) {
    lines.push(`${what}: would be ${o.action === "created" ? "created" : "updated"} (dry run: nothing written)`);
  } else {
    lines.push(`${what}: ${o.action}`);
  }
  for (const c of o.changes) lines.push(`  ${c.text}`);
  if (o.dryRun && o.request) {
    lines.push("", "Request (not sent):", `${o.request.method} ${o.request.path}`, JSON.stringify(o.request.body, null, 2), "");
  }
}

interface SetupReport {
  readonly repo: string;
  readonly main: SetupOutcome;
  readonly state: SetupOutcome;
  readonly stateBranch: string;
  readonly checks: readonly RequiredCheck[];
  readonly environments: readonly EnvironmentFinding[];
  readonly notes: readonly string[];
  readonly requests: number;
}

function formatText(r: SetupReport): string {
  const lines: string[] = [];
  formatOutcome(lines, `the default branch of ${r.repo}`, r.main);
  lines.push(`Required status checks: ${r.checks.map((c) => `${JSON.stringify(c.context)} (app ${c.integration_id})`).join(", ")}`);
  formatOutcome(lines, `the state branch ${r.stateBranch} (bypass: deploy keys only)`, r.state);
  for (const e of r.environments) lines.push(`${e.ok ? "ok" : "OPEN"}: ${e.text}`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  lines.push(`(${r.requests} GitHub API request${r.requests === 1 ? "" : "s"})`);
  return `${lines.join("\n")}\n`;
}

/** Both rulesets (one list of the repository's rulesets serves both), then both environments' policies. */
async function applyAll(port: GitHubRulesetPort, desired: RulesetBody, inputs: SetupInputs) {
  const listed = await port.listRulesets();
  const main = await applyRuleset(port, desired, inputs.dryRun, listed);
  const state = await applyRuleset(port, stateRuleset(inputs.stateBranch), inputs.dryRun, listed);
  const defaultBranch = await port.defaultBranch();
  const environments: EnvironmentFinding[] = [];
  for (const name of ENVIRONMENTS) environments.push(environmentFinding(name, await port.environmentPolicy(name), defaultBranch));
  return { main, state, environments };
}

export async function runSetupCommand(input: Extract<CliInput, { command: "setup" }>, io: Io): Promise<number> {
  const inputs = readSetupInputs(input, io.env);
  const resolved = resolveRequiredChecks(inputs.workflows);
  const pinned = pinnedChecks(resolved.checks, inputs.appId);
  const desired: RulesetBody = desiredRuleset({ stageCount: inputs.stageCount, checks: pinned.checks });
  const notes = [...resolved.notes, ...pinned.notes];
  if (approvalsFor(inputs.stageCount) !== inputs.stageCount) {
    notes.push(`${inputs.stageCount} approval stage${inputs.stageCount === 1 ? "" : "s"} configured; the ruleset requires ${approvalsFor(inputs.stageCount)} approvals`);
  }
  const client = createGitHubClient({ ...inputs.github, userAgent: `gitops-newsletter/${TOOL_VERSION}` });
  const port = new GitHubRulesetPort(client);
  let applied: { main: SetupOutcome; state: SetupOutcome; environments: EnvironmentFinding[] };
  try {
    applied = await applyAll(port, desired, inputs);
  } catch (e) {
    const message = e instanceof SetupError ? explainGitHubFailure(e, "setup", { repo: inputs.github.repo, apiUrl: io.env["GITHUB_API_URL"] }) : undefined;
    throw message !== undefined && e instanceof SetupError ? new SetupError(e.kind, e.operation, message, { cause: e }) : e;
  }
  const { main, state, environments } = applied;
  const report: SetupReport = {
    repo: inputs.github.repo,
    main,
    state,
    stateBranch: inputs.stateBranch,
    checks: pinned.checks,
    environments,
    notes: [...notes, ...main.notes, ...state.notes],
    requests: client.requestCount,
  };
  if (inputs.format === "json") {
    io.out(
      `${JSON.stringify({
        repository: report.repo,
        action: main.action,
        dryRun: main.dryRun,
        ruleset: { id: main.id, name: main.name },
        changes: main.changes,
        request: main.request,
        requiredChecks: pinned.checks,
        stateRuleset: { id: state.id, name: state.name, branch: inputs.stateBranch, action: state.action, changes: state.changes, request: state.request },
        environments,
        notes: report.notes,
        requests: report.requests,
      })}\n`,
    );
  } else {
    io.out(formatText(report));
  }
  // An open environment is for an admin to fix by hand; setup says so and fails.
  return environments.every((e) => e.ok) ? 0 : 1;
}
