/**
 * The composition module's GitHub side (docs/design.md, "Layers"): the REST
 * client for GITHUB_REPOSITORY as the environment configures it, and the
 * approval gate on it. The `gate` and `send` commands and the audit step all
 * build theirs here, so they run the same gate with the same client.
 */
import { GateError } from "../errors.ts";
import { createGitHubClient, gitHubClientOptionsFromEnv, type GitHubClient } from "../github/client.ts";
import { explainGitHubFailure } from "../github/explain.ts";
import { GitHubGatePort } from "../github/gate-adapter.ts";
import type { GateResult } from "../gate/result.ts";
import { runGate } from "../gate/run.ts";
import type { Io } from "../runtime/io.ts";
import { TOOL_VERSION } from "../runtime/version.ts";

/** The REST client for GITHUB_REPOSITORY with GITHUB_TOKEN, at GITHUB_API_URL. */
export function clientFromEnv(env: Io["env"]): GitHubClient {
  return createGitHubClient({ ...gitHubClientOptionsFromEnv(env as NodeJS.ProcessEnv), userAgent: `gitops-newsletter/${TOOL_VERSION}` });
}

/** The gate's verdict for a commit or pull request, and how many API requests it took. */
export async function gateFromEnv(env: Io["env"], target: { sha: string } | { pr: number }): Promise<{ result: GateResult; requests: number }> {
  const client = clientFromEnv(env);
  try {
    const result = await runGate(new GitHubGatePort(client), target);
    return { result, requests: client.requestCount };
  } catch (e) {
    throw forPeople(e, env);
  }
}

/** A GateError from a GitHub call, reworded to say what to check (github/explain.ts); kind, operation and cause kept. */
export function forPeople(e: unknown, env: Io["env"]): unknown {
  if (!(e instanceof GateError)) return e;
  const message = explainGitHubFailure(e, "gate", { repo: env["GITHUB_REPOSITORY"], apiUrl: env["GITHUB_API_URL"] });
  return message === undefined ? e : new GateError(e.kind, message, { cause: e, ...(e.operation !== undefined ? { operation: e.operation } : {}) });
}
