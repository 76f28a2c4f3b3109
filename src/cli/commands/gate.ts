/**
 * `gate (--sha SHA | --pr N) [--format json] [--publish-status]`: verifies the
 * approvals through the GitHub API. Exit 0 approved, 1 not approved, 2 error
 * (fail closed: any API error, 404 or truncated list). Reads GITHUB_TOKEN,
 * GITHUB_REPOSITORY, GITHUB_API_URL.
 *
 * `--publish-status` (with `--pr`) also sets the commit status
 * `newsletter/approvals` on the pull request's head (REST "Create a commit
 * status", POST /repos/{owner}/{repo}/statuses/{sha}): the progress signal on
 * an open pull request ("2 of 3 approvals: waiting for release") and, made a
 * required status check, a merge blocker until the gate passes.
 *   success  every stage approved, no problem
 *   pending  an open pull request still waiting for approvals, no problem
 *   failure  a problem refuses it (fork, CODEOWNERS changed, ...), or a merged
 *            or closed pull request that is not approved
 *   error    the gate could not decide (exit 2), when the head is known
 * A status is the latest one per context ("Commit statuses": "the most recent
 * status for each context is reported"), so re-running the gate replaces it.
 */
import { apiFailureKind, GateError, isNewsletterError } from "../../errors.ts";
import type { GitHubClient } from "../../github/client.ts";
import { GitHubGatePort } from "../../github/gate-adapter.ts";
import { formatGateReport, gateStatusLine } from "../../gate/report.ts";
import type { GateResult } from "../../gate/result.ts";
import { runGate } from "../../gate/run.ts";
import type { CliInput } from "../args.ts";
import type { Io } from "../../runtime/io.ts";
import { clientFromEnv, forPeople } from "../../wiring/github.ts";

/** The commit status context the gate publishes (and a branch ruleset can require). */
export const STATUS_CONTEXT = "newsletter/approvals";
/** GitHub refuses longer commit status descriptions (422); the gate keeps within it. */
export const STATUS_DESCRIPTION_MAX = 140;

export type CommitStatusState = "success" | "pending" | "failure" | "error";

export interface PublishedStatus {
  readonly context: string;
  readonly state: CommitStatusState;
  readonly description: string;
  readonly sha: string;
  readonly targetUrl?: string;
}

/** At most `max` characters, cut at a word where possible, with "..." when cut. */
export function clip(text: string, max = STATUS_DESCRIPTION_MAX): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  if (oneLine.length <= max) return oneLine;
  const room = oneLine.slice(0, max - 3);
  const cut = room.lastIndexOf(" ");
  return `${cut > max / 2 ? room.slice(0, cut) : room}...`;
}

/** The commit status that says what the gate decided. */
export function commitStatusOf(r: GateResult): { state: Exclude<CommitStatusState, "error">; description: string } {
  const state = r.approved ? "success" : r.problems.length === 0 && r.mode === "open" ? "pending" : "failure";
  return { state, description: clip(gateStatusLine(r)) };
}

/** The Actions run that set the status, as its link (GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID). */
function runUrl(env: Io["env"]): string | undefined {
  const server = env["GITHUB_SERVER_URL"];
  const repo = env["GITHUB_REPOSITORY"];
  const run = env["GITHUB_RUN_ID"];
  if (!server || !repo || !run || !/^https:\/\//.test(server) || !/^\d+$/.test(run)) return undefined;
  return `${server.replace(/\/+$/, "")}/${repo}/actions/runs/${run}`;
}

async function publish(client: GitHubClient, env: Io["env"], sha: string, state: CommitStatusState, description: string): Promise<PublishedStatus> {
  const targetUrl = runUrl(env);
  const status: PublishedStatus = { context: STATUS_CONTEXT, state, description: clip(description), sha, ...(targetUrl ? { targetUrl } : {}) };
  try {
    // Setting a status again replaces the context's status: safe to retry after a 5xx.
    await client.octokit.rest.repos.createCommitStatus({
      ...client.repoParams,
      sha,
      state,
      context: status.context,
      description: status.description,
      ...(targetUrl ? { target_url: targetUrl } : {}),
      request: { idempotent: true },
    });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new GateError(apiFailureKind(e) ?? "api", `gate: could not set the commit status ${STATUS_CONTEXT} on ${sha.slice(0, 12)}: ${why}`, {
      cause: e,
      operation: "publishStatus",
    });
  }
  return status;
}

function statusLine(s: PublishedStatus): string {
  return `Commit status ${s.context} on ${s.sha.slice(0, 7)}: ${s.state} - ${s.description}`;
}

export async function runGateCommand(input: Extract<CliInput, { command: "gate" }>, io: Io): Promise<number> {
  const client = clientFromEnv(io.env);
  const port = new GitHubGatePort(client);
  let result: GateResult;
  try {
    result = await runGate(port, input.target);
  } catch (e) {
    if (input.publishStatus && "pr" in input.target && isNewsletterError(e)) {
      // Say on the pull request that the gate could not decide, when its head can be known.
      let head: string | undefined;
      try {
        head = (await port.pull(input.target.pr)).headSha;
      } catch {
        head = undefined;
      }
      if (head !== undefined) {
        const what = e instanceof GateError ? e.kind : e.code;
        const published = await publish(client, io.env, head, "error", `the gate could not decide (${what}): see the run`);
        io.err(`${statusLine(published)}\n`);
      }
    }
    throw forPeople(e, io.env);
  }

  let published: PublishedStatus | undefined;
  let publishError: unknown;
  if (input.publishStatus && result.headSha !== null) {
    const { state, description } = commitStatusOf(result);
    try {
      published = await publish(client, io.env, result.headSha, state, description);
    } catch (e) {
      publishError = e;
    }
  }
  const requests = client.requestCount;
  if (input.format === "json") {
    io.out(`${JSON.stringify({ ...result, status: gateStatusLine(result), requests, ...(published ? { published } : {}) })}\n`);
  } else {
    io.out(`${formatGateReport(result)}\n${gateStatusLine(result)}\n${published ? `${statusLine(published)}\n` : ""}(${requests} GitHub API requests)\n`);
  }
  // The verdict is shown; a status that could not be set is still an error (exit 2).
  if (publishError !== undefined) throw publishError;
  return result.approved ? 0 : 1;
}
