/**
 * `setup [--dry-run] [--format json]`: applies, idempotently, the repository
 * ruleset that makes branch rules the gate's first fence (src/setup/). Exit 0
 * when the ruleset is created, updated, already up to date, or (dry run)
 * shown; exit 2 for a usage error, an unreadable configuration or workflow,
 * or any API error (the token must be allowed to administer the repository).
 *
 * Inputs are read once, here, into SetupInputs: GITHUB_TOKEN,
 * GITHUB_REPOSITORY, GITHUB_API_URL, `.github/newsletter.yml` (the number of
 * stages) and the workflow files (the required checks). Every failure is a
 * NewsletterError that main.ts prints: one failure path.
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
import { REQUIRED_CHECKS, resolveRequiredChecks, WORKFLOW_DIR } from "../../setup/checks.ts";
import { approvalsFor, desiredRuleset, type RulesetBody } from "../../setup/ruleset.ts";
import type { CliInput } from "../args.ts";
import type { Io } from "../io.ts";
import { TOOL_VERSION } from "../version.ts";

export interface SetupInputs {
  readonly github: Pick<GitHubClientOptions, "token" | "repo" | "apiUrl">;
  readonly dryRun: boolean;
  readonly format: "text" | "json";
  /** Approval stages in `.github/newsletter.yml`. */
  readonly stageCount: number;
  /** Workflow file name (`ci.yml`) → text, for the workflows REQUIRED_CHECKS names. */
  readonly workflows: ReadonlyMap<string, string>;
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
  return { github, dryRun: input.dryRun, format: input.format, stageCount: config.approvals.stages.length, workflows };
}

function formatText(repo: string, o: SetupOutcome, checks: readonly string[], notes: readonly string[], requests: number): string {
  const lines: string[] = [];
  const what = `Ruleset ${JSON.stringify(o.name)}${o.id !== null ? ` (id ${o.id})` : ""} on the default branch of ${repo}`;
  if (o.action === "unchanged") {
    lines.push(`${what}: up to date, no write request made`);
  } else if (o.dryRun) {
    lines.push(`${what}: would be ${o.action === "created" ? "created" : "updated"} (dry run: nothing written)`);
  } else {
    lines.push(`${what}: ${o.action}`);
  }
  for (const c of o.changes) lines.push(`  ${c.text}`);
  lines.push(`Required status checks: ${checks.map((c) => JSON.stringify(c)).join(", ")}`);
  for (const n of notes) lines.push(`note: ${n}`);
  if (o.dryRun && o.request) {
    lines.push("", "Request (not sent):", `${o.request.method} ${o.request.path}`, JSON.stringify(o.request.body, null, 2));
  }
  lines.push(`(${requests} GitHub API request${requests === 1 ? "" : "s"})`);
  return `${lines.join("\n")}\n`;
}

export async function runSetupCommand(input: Extract<CliInput, { command: "setup" }>, io: Io): Promise<number> {
  const inputs = readSetupInputs(input, io.env);
  const resolved = resolveRequiredChecks(inputs.workflows);
  const checks = resolved.checks.map((c) => c.context);
  const desired: RulesetBody = desiredRuleset({ stageCount: inputs.stageCount, checks });
  const notes = [...resolved.notes];
  if (approvalsFor(inputs.stageCount) !== inputs.stageCount) {
    notes.push(`${inputs.stageCount} approval stage${inputs.stageCount === 1 ? "" : "s"} configured; the ruleset requires ${approvalsFor(inputs.stageCount)} approvals`);
  }
  const client = createGitHubClient({ ...inputs.github, userAgent: `gitops-newsletter/${TOOL_VERSION}` });
  let outcome: SetupOutcome;
  try {
    outcome = await applyRuleset(new GitHubRulesetPort(client), desired, inputs.dryRun);
  } catch (e) {
    const message = e instanceof SetupError ? explainGitHubFailure(e, "setup", { repo: inputs.github.repo, apiUrl: io.env["GITHUB_API_URL"] }) : undefined;
    throw message !== undefined && e instanceof SetupError ? new SetupError(e.kind, e.operation, message, { cause: e }) : e;
  }
  const allNotes = [...notes, ...outcome.notes];
  const requests = client.requestCount;
  if (inputs.format === "json") {
    io.out(
      `${JSON.stringify({
        repository: inputs.github.repo,
        action: outcome.action,
        dryRun: outcome.dryRun,
        ruleset: { id: outcome.id, name: outcome.name },
        changes: outcome.changes,
        request: outcome.request,
        requiredChecks: checks,
        notes: allNotes,
        requests,
      })}\n`,
    );
  } else {
    io.out(formatText(inputs.github.repo, outcome, checks, allNotes, requests));
  }
  return 0;
}
