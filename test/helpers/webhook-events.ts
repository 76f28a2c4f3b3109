/**
 * Webhook event payloads for the lifecycle test, as GitHub delivers them to
 * a workflow run (GITHUB_EVENT_PATH), validated against
 * @octokit/webhooks-schemas (`schema.json`: one draft-07 document whose
 * `definitions` hold every event, e.g. `pull_request$opened`, `push$event`).
 *
 * The objects inside a payload (repository, pull request, users) are taken
 * from the GitHub fake's REST answers — themselves validated against
 * GitHub's OpenAPI description — and projected onto the webhook schema:
 * keys the webhook shape does not have are dropped, the few it has that the
 * REST shape lacks are filled in. Every builder validates its result and
 * throws, listing the violations, when it does not match.
 */
import { readFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { createRequire } from "node:module";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { simpleUserOf, type GitHubFake } from "./github-fake.ts";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };
type Schema = { [k: string]: unknown };

const schemaFile = createRequire(import.meta.url).resolve("@octokit/webhooks-schemas/schema.json");
const SCHEMA = JSON.parse(readFileSync(schemaFile, "utf8")) as { definitions: Record<string, Schema> };
const SCHEMA_ID = "https://octokit.github.io/webhooks/schema.json";

let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

/** The validator of one event definition, e.g. `pull_request$opened`. */
function validatorOf(definition: string): ValidateFunction {
  if (!SCHEMA.definitions[definition]) throw new Error(`webhooks-schemas has no definition ${definition}`);
  let v = validators.get(definition);
  if (!v) {
    if (!ajv) {
      // strict: false — the schema carries annotations (tsAdditionalProperties) Ajv does not know.
      ajv = new Ajv({ strict: false, allErrors: true });
      addFormats.default(ajv);
      ajv.addSchema({ ...SCHEMA, $id: SCHEMA_ID });
    }
    v = ajv.compile({ $ref: `${SCHEMA_ID}#/definitions/${definition}` });
    validators.set(definition, v);
  }
  return v;
}

/** Violations of `payload` against the event definition, one per line; empty when valid. */
export function webhookErrors(definition: string, payload: unknown): string[] {
  const v = validatorOf(definition);
  if (v(payload)) return [];
  return (v.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
}

export function assertWebhook(definition: string, payload: unknown): void {
  const errors = webhookErrors(definition, payload);
  if (errors.length) throw new Error(`${definition} payload does not match @octokit/webhooks-schemas:\n  ${errors.slice(0, 15).join("\n  ")}`);
}

// ---------------------------------------------------------------- projection

function resolve(s: unknown): Schema | null {
  if (typeof s !== "object" || s === null) return null;
  const ref = (s as Schema)["$ref"];
  if (typeof ref === "string" && ref.startsWith("#/definitions/")) return resolve(SCHEMA.definitions[ref.slice("#/definitions/".length)]);
  return s as Schema;
}

/** Properties a schema allows (its own, and those of its allOf branches). */
function propertiesOf(s: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = { ...((s["properties"] as Record<string, unknown>) ?? {}) };
  for (const b of (s["allOf"] as unknown[]) ?? []) {
    const r = resolve(b);
    if (r) Object.assign(out, propertiesOf(r));
  }
  return out;
}

/** The object-typed branch of a schema (through oneOf/anyOf with null), or the schema itself. */
function objectBranch(s: Schema): Schema | null {
  for (const key of ["oneOf", "anyOf"]) {
    const branches = s[key] as unknown[] | undefined;
    if (branches) {
      for (const b of branches) {
        const r = resolve(b);
        if (r && (r["type"] === "object" || r["properties"] || r["allOf"])) return r;
      }
    }
  }
  if (s["type"] === "object" || s["properties"] || s["allOf"]) return s;
  return null;
}

/** Drops every key of `value` that the schema does not allow, recursively. */
export function project(value: Json, schema: unknown): Json {
  const s = resolve(schema);
  if (!s || value === null) return value;
  if (Array.isArray(value)) {
    const items = resolve(s["items"]);
    return items ? value.map((v) => project(v, items)) : value;
  }
  if (typeof value !== "object") return value;
  const branch = objectBranch(s);
  if (!branch) return value;
  const props = propertiesOf(branch);
  if (Object.keys(props).length === 0) return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    if (k in props) out[k] = project(v, props[k]);
  }
  return out;
}

// ---------------------------------------------------------------- REST shapes from the fake

/** GET through node:http without keep-alive (a pooled connection the fake has closed would reset). */
function rest(fake: GitHubFake, token: string, path: string): Promise<Obj> {
  return new Promise((resolve, reject) => {
    const req = httpGet(`${fake.url}${path}`, { agent: false, headers: { authorization: `token ${token}`, accept: "application/vnd.github+json", "user-agent": "webhook-events" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        if ((res.statusCode ?? 0) !== 200) reject(new Error(`github fake: GET ${path} → ${res.statusCode}`));
        else resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Obj);
      });
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

const def = (name: string): Schema => SCHEMA.definitions[name]!;

/** The webhook `repository` of the fake's repository. */
async function repository(fake: GitHubFake, token: string): Promise<Obj> {
  const { owner, name } = fake.state.repo;
  const r = (await rest(fake, token, `/repos/${owner}/${name}`)) as Obj;
  const out = project(r, def("repository")) as Obj;
  // REST gives the organization as an object; the webhook schema has it as a string, optional: left out.
  delete out["organization"];
  // Webhook-only fields the REST shape lacks.
  out["custom_properties"] ??= {};
  out["has_discussions"] ??= false;
  out["topics"] ??= [];
  out["is_template"] ??= false;
  out["web_commit_signoff_required"] ??= false;
  out["license"] ??= null;
  out["mirror_url"] ??= null;
  out["homepage"] ??= null;
  out["language"] ??= null;
  return out;
}

function user(fake: GitHubFake, login: string, repo: Obj): Obj {
  // The repository owner's user object has the webhook user's fields; change the identity.
  const base = repo["owner"] as Obj;
  const apiBase = String(base["url"]).replace(/\/users\/.*$/, "");
  return project({ ...base, ...(simpleUserOf(apiBase, fake.user(login)) as Obj) }, def("user")) as Obj;
}

async function pullRequest(fake: GitHubFake, token: string, n: number, repo: Obj, shape: string): Promise<Obj> {
  const { owner, name } = fake.state.repo;
  const p = await rest(fake, token, `/repos/${owner}/${name}/pulls/${n}`);
  const out = project(p, def(shape)) as Obj;
  for (const side of ["head", "base"] as const) {
    const ref = out[side] as Obj;
    ref["repo"] = repo;
    ref["user"] = repo["owner"] as Obj;
  }
  out["user"] = user(fake, String((p["user"] as Obj)["login"]), repo);
  out["requested_reviewers"] = [];
  out["requested_teams"] = [];
  out["assignees"] = [];
  out["labels"] = [];
  out["assignee"] = null;
  out["milestone"] = null;
  out["auto_merge"] = null;
  out["active_lock_reason"] = null;
  if (shape === "pull-request") {
    out["merged_by"] = p["merged_by"] ? user(fake, String((p["merged_by"] as Obj)["login"]), repo) : null;
    out["mergeable"] ??= null;
    out["rebaseable"] ??= null;
    out["mergeable_state"] ??= "unknown";
    out["maintainer_can_modify"] ??= false;
  }
  return out;
}

export interface EventOptions {
  fake: GitHubFake;
  token: string;
  /** Who caused the event. */
  sender: string;
}

/** `pull_request` with action opened or synchronize (then `before`/`after`), validated. */
export async function pullRequestEvent(
  o: EventOptions & { action: "opened" | "synchronize"; number: number; before?: string; after?: string },
): Promise<Obj> {
  const repo = await repository(o.fake, o.token);
  const pr = await pullRequest(o.fake, o.token, o.number, repo, "pull-request");
  const payload: Obj = {
    action: o.action,
    number: o.number,
    ...(o.action === "synchronize" ? { before: o.before ?? null, after: o.after ?? (pr["head"] as Obj)["sha"] ?? null } : {}),
    pull_request: pr,
    repository: repo,
    sender: user(o.fake, o.sender, repo),
  };
  assertWebhook(`pull_request$${o.action}`, payload);
  return payload;
}

/** `pull_request_review` submitted, validated. */
export async function reviewSubmittedEvent(o: EventOptions & { number: number; reviewId: number }): Promise<Obj> {
  const repo = await repository(o.fake, o.token);
  const pr = await pullRequest(o.fake, o.token, o.number, repo, "simple-pull-request");
  const fp = o.fake.state.pulls.find((p) => p.number === o.number);
  const r = fp?.reviews.find((x) => x.id === o.reviewId);
  if (!fp || !r) throw new Error(`no review ${o.reviewId} on #${o.number}`);
  const html = `https://github.com/${o.fake.state.repo.owner}/${o.fake.state.repo.name}/pull/${o.number}`;
  const review: Obj = {
    id: r.id,
    node_id: `PRR_kwDO${r.id}`,
    user: user(o.fake, r.user, repo),
    body: r.body ?? null,
    commit_id: r.commitId,
    submitted_at: r.submittedAt ?? null,
    state: r.state.toLowerCase(),
    html_url: `${html}#pullrequestreview-${r.id}`,
    pull_request_url: String(pr["url"]),
    author_association: "MEMBER",
    _links: { html: { href: `${html}#pullrequestreview-${r.id}` }, pull_request: { href: String(pr["url"]) } },
  };
  const payload: Obj = { action: "submitted", review, pull_request: pr, repository: repo, sender: user(o.fake, o.sender, repo) };
  assertWebhook("pull_request_review$submitted", payload);
  return payload;
}

/** `push` of `after` onto `ref` (refs/heads/<branch>), validated. */
export async function pushEvent(
  o: EventOptions & { ref: string; before: string; after: string; message: string; timestamp: string },
): Promise<Obj> {
  const repo = await repository(o.fake, o.token);
  // A push payload's repository has numeric created_at/pushed_at (epoch seconds) and owner/pusher fields.
  const pushRepo: Obj = {
    ...repo,
    created_at: Math.floor(Date.parse(String(repo["created_at"])) / 1000),
    pushed_at: Math.floor(Date.now() / 1000),
    stargazers: 0,
    master_branch: String(repo["default_branch"]),
  };
  const html = `https://github.com/${o.fake.state.repo.owner}/${o.fake.state.repo.name}`;
  const person = { name: o.sender, email: `${o.sender}@users.noreply.example.com`, username: o.sender };
  const commit: Obj = {
    id: o.after,
    tree_id: o.after,
    distinct: true,
    message: o.message,
    timestamp: o.timestamp,
    url: `${html}/commit/${o.after}`,
    author: person,
    committer: { name: "GitHub", email: "noreply@example.com", username: "web-flow" },
    added: [],
    removed: [],
    modified: [],
  };
  const payload: Obj = {
    ref: o.ref,
    before: o.before,
    after: o.after,
    created: false,
    deleted: false,
    forced: false,
    base_ref: null,
    compare: `${html}/compare/${o.before.slice(0, 12)}...${o.after.slice(0, 12)}`,
    commits: [commit],
    head_commit: commit,
    repository: project(pushRepo, def("repository")) as Obj,
    pusher: { name: o.sender, email: `${o.sender}@users.noreply.example.com` },
    sender: user(o.fake, o.sender, repo),
  };
  assertWebhook("push$event", payload);
  return payload;
}
