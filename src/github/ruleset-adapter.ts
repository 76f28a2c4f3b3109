/**
 * `setup`'s RulesetPort (src/setup/port.ts) over GitHub's REST API, on the
 * client of client.ts. Thin: one method per request, payloads checked for the
 * fields the core reads, every failure a SetupError naming the operation (the
 * client's error, with status, route and x-github-request-id, stays as
 * `cause`).
 *
 * REST "Repository rules": "Get all repository rulesets" lists summaries (no
 * rules, conditions or bypass actors), so the ruleset found by name is read
 * with "Get a repository ruleset". Creating and updating need a token that
 * may administer the repository ("Administration" repository permission,
 * write); GITHUB_TOKEN cannot have it, so setup runs with an admin's token.
 */
import { apiFailureKind } from "../errors.ts";
import { SetupError, type SetupErrorKind } from "../setup/errors.ts";
import type { EnvironmentPolicy } from "../setup/environments.ts";
import type { RulesetPort, RulesetSummary, WriteRequest } from "../setup/port.ts";
import type { BypassActor, ExistingRuleset, RefNameCondition, RulesetBody, RuleShape } from "../setup/ruleset.ts";
import type { GitHubClient } from "./client.ts";
import { GitHubApiError } from "./errors.ts";

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function invalid(operation: string, what: string): SetupError {
  return new SetupError("invalid-response", operation, `${operation}: unexpected response from GitHub: ${what}`);
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : undefined;
}

export class GitHubRulesetPort implements RulesetPort {
  constructor(private readonly gh: GitHubClient) {}

  get requestCount(): number {
    return this.gh.requestCount;
  }

  private async op<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof SetupError) throw e;
      if (e instanceof GitHubApiError) {
        // The one mapping of a client error to what it means to a command (src/errors.ts).
        const kind: SetupErrorKind = apiFailureKind(e) ?? "api";
        const hint =
          e.status === 403 || e.status === 401 || e.kind === "not-found"
            ? " (rulesets need a token that may administer the repository: repository permission \"Administration: write\", or an admin's token; GITHUB_TOKEN cannot)"
            : "";
        throw new SetupError(kind, operation, `${operation}: ${e.message}${hint}`, { cause: e });
      }
      throw new SetupError("api", operation, `${operation}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  listRulesets(): Promise<readonly RulesetSummary[]> {
    const operation = "listRulesets";
    return this.op(operation, async () => {
      const list = await this.gh.paginate<unknown>("GET /repos/{owner}/{repo}/rulesets", {
        ...this.gh.repoParams,
        includes_parents: false,
      });
      return list.map((item): RulesetSummary => {
        const r = obj(item);
        if (!r || typeof r["id"] !== "number" || typeof r["name"] !== "string" || typeof r["enforcement"] !== "string") {
          throw invalid(operation, "a ruleset without id, name or enforcement");
        }
        return { id: r["id"], name: r["name"], target: typeof r["target"] === "string" ? r["target"] : null, enforcement: r["enforcement"] };
      });
    });
  }

  getRuleset(id: number): Promise<ExistingRuleset> {
    const operation = `getRuleset(${id})`;
    return this.op(operation, async () => {
      const { data } = await this.gh.octokit.request("GET /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
        ...this.gh.repoParams,
        ruleset_id: id,
      });
      return parseRuleset(operation, data);
    });
  }

  defaultBranch(): Promise<string> {
    return this.op("defaultBranch", async () => {
      const { data } = await this.gh.octokit.rest.repos.get({ ...this.gh.repoParams });
      if (typeof data.default_branch !== "string" || data.default_branch === "") throw invalid("defaultBranch", "no default_branch");
      return data.default_branch;
    });
  }

  environmentPolicy(name: string): Promise<EnvironmentPolicy> {
    const operation = `environmentPolicy(${name})`;
    return this.op(operation, async () => {
      let data;
      try {
        ({ data } = await this.gh.octokit.rest.repos.getEnvironment({ ...this.gh.repoParams, environment_name: name }));
      } catch (e) {
        if (e instanceof GitHubApiError && e.kind === "not-found") return { kind: "missing" } as const;
        if (e instanceof GitHubApiError && (e.status === 403 || e.status === 401)) return { kind: "unreadable", why: e.message } as const;
        throw e;
      }
      const p = data.deployment_branch_policy;
      if (p === null || p === undefined) return { kind: "all" } as const;
      if (p.custom_branch_policies) {
        const list = await this.gh.paginate<{ name: string; type?: string }>(
          "GET /repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies",
          { ...this.gh.repoParams, environment_name: name },
        );
        return { kind: "custom", policies: list.map((b) => ({ name: b.name, type: b.type ?? "branch" })) } as const;
      }
      if (p.protected_branches) return { kind: "protected" } as const;
      return { kind: "all" } as const;
    });
  }

  createRequest(body: RulesetBody): WriteRequest {
    return { method: "POST", path: `/repos/${this.gh.owner}/${this.gh.repo}/rulesets`, body };
  }

  updateRequest(id: number, body: RulesetBody): WriteRequest {
    return { method: "PUT", path: `/repos/${this.gh.owner}/${this.gh.repo}/rulesets/${id}`, body };
  }

  send(request: WriteRequest): Promise<{ id: number }> {
    const operation = request.method === "POST" ? "createRuleset" : `updateRuleset(${request.path.split("/").pop()})`;
    return this.op(operation, async () => {
      const body = request.body as unknown as Record<string, unknown>;
      // The route template keeps the request log and errors free of ids; the body is ours (no secret).
      const response =
        request.method === "POST"
          ? await this.gh.octokit.request("POST /repos/{owner}/{repo}/rulesets", { ...this.gh.repoParams, ...body } as never)
          : await this.gh.octokit.request("PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
              ...this.gh.repoParams,
              ruleset_id: Number(request.path.split("/").pop()),
              ...body,
            } as never);
      const r = obj(response.data);
      if (!r || typeof r["id"] !== "number") throw invalid(operation, "no ruleset id");
      return { id: r["id"] };
    });
  }
}

/** "Get a repository ruleset" → ExistingRuleset; a missing `bypass_actors` is null (not visible). */
export function parseRuleset(operation: string, data: unknown): ExistingRuleset {
  const r = obj(data);
  if (!r || typeof r["id"] !== "number" || typeof r["name"] !== "string" || typeof r["enforcement"] !== "string") {
    throw invalid(operation, "a ruleset without id, name or enforcement");
  }
  const refNameRaw = obj(obj(r["conditions"])?.["ref_name"]);
  let refName: RefNameCondition | null = null;
  if (refNameRaw) {
    const include = strings(refNameRaw["include"] ?? []);
    const exclude = strings(refNameRaw["exclude"] ?? []);
    if (!include || !exclude) throw invalid(operation, "conditions.ref_name include/exclude are not lists of patterns");
    refName = { include, exclude };
  }
  let bypassActors: BypassActor[] | null = null;
  if (Array.isArray(r["bypass_actors"])) {
    bypassActors = r["bypass_actors"].map((a) => {
      const x = obj(a);
      if (!x || typeof x["actor_type"] !== "string") throw invalid(operation, "a bypass actor without actor_type");
      const actorId = typeof x["actor_id"] === "number" ? x["actor_id"] : null;
      return { actor_id: actorId, actor_type: x["actor_type"], ...(typeof x["bypass_mode"] === "string" ? { bypass_mode: x["bypass_mode"] } : {}) };
    });
  }
  const rulesRaw = r["rules"] ?? [];
  if (!Array.isArray(rulesRaw)) throw invalid(operation, "rules is not a list");
  const rules = rulesRaw.map((x): RuleShape => {
    const rule = obj(x);
    if (!rule || typeof rule["type"] !== "string") throw invalid(operation, "a rule without type");
    const parameters = obj(rule["parameters"]);
    return parameters ? { type: rule["type"], parameters } : { type: rule["type"] };
  });
  return {
    id: r["id"],
    name: r["name"],
    target: typeof r["target"] === "string" ? r["target"] : "branch",
    enforcement: r["enforcement"],
    refName,
    bypassActors,
    rules,
  };
}
