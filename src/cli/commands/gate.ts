/**
 * `gate (--sha SHA | --pr N)`: verifies the approvals through the GitHub API.
 * Exit 0 approved, 1 not approved, 2 error (fail closed: any API error, 404
 * or truncated list). Reads GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL.
 */
import { createGitHubClient, gitHubClientOptionsFromEnv } from "../../github/client.ts";
import { GitHubGatePort } from "../../github/gate-adapter.ts";
import { formatGateReport, gateStatusLine } from "../../gate/report.ts";
import type { GateResult } from "../../gate/result.ts";
import { runGate } from "../../gate/run.ts";
import type { CliInput } from "../args.ts";
import type { Io } from "../io.ts";
import { TOOL_VERSION } from "../version.ts";

export async function gateFromEnv(env: Io["env"], target: { sha: string } | { pr: number }): Promise<{ result: GateResult; requests: number }> {
  const client = createGitHubClient({ ...gitHubClientOptionsFromEnv(env as NodeJS.ProcessEnv), userAgent: `gitops-newsletter/${TOOL_VERSION}` });
  const result = await runGate(new GitHubGatePort(client), target);
  return { result, requests: client.requestCount };
}

export async function runGateCommand(input: Extract<CliInput, { command: "gate" }>, io: Io): Promise<number> {
  const { result, requests } = await gateFromEnv(io.env, input.target);
  if (input.format === "json") io.out(`${JSON.stringify({ ...result, status: gateStatusLine(result), requests })}\n`);
  else io.out(`${formatGateReport(result)}\n${gateStatusLine(result)}\n(${requests} GitHub API requests)\n`);
  return result.approved ? 0 : 1;
}
