/**
 * The output formats of `check` and one dispatcher for the CLI.
 *
 * `renderReport` returns the text for standard output. For `github` it first
 * emits annotations and the job summary through the sink (by default the
 * @actions/core adapter, loaded only then), and returns the plain text report
 * so the job log holds every finding, including those past GitHub's
 * annotation limit.
 */
import type { CheckReport } from "../findings/report.ts";
import { emitGithub, type GithubSink } from "./github.ts";
import { formatJson } from "./json.ts";
import { formatSarif } from "./sarif.ts";
import { formatText } from "./text.ts";

export const FORMATS = ["text", "json", "sarif", "github"] as const;
export type Format = (typeof FORMATS)[number];

export function isFormat(s: string): s is Format {
  return (FORMATS as readonly string[]).includes(s);
}

export interface RenderDeps {
  /** The tool's version, for SARIF `tool.driver.version`. */
  toolVersion: string;
  /** ANSI colour in the text format (e.g. stdout is a TTY and NO_COLOR is unset). */
  color?: boolean;
  /** Repository root (`--root`), for SARIF paths and `%SRCROOT%`. */
  repoRoot?: string;
  /** SARIF `tool.driver.informationUri`; see {@link informationUriFromEnv}. */
  informationUri?: string;
  /** Where `github` annotations and the summary go; default: @actions/core. */
  githubSink?: GithubSink;
}

export async function renderReport(report: CheckReport, format: Format, deps: RenderDeps): Promise<string> {
  switch (format) {
    case "text":
      return formatText(report, { color: deps.color ?? false });
    case "json":
      return formatJson(report);
    case "sarif":
      return formatSarif(report, {
        toolVersion: deps.toolVersion,
        ...(deps.repoRoot !== undefined ? { repoRoot: deps.repoRoot } : {}),
        ...(deps.informationUri !== undefined ? { informationUri: deps.informationUri } : {}),
      });
    case "github": {
      const sink = deps.githubSink ?? (await import("./github-actions-sink.ts")).githubActionsSink();
      await emitGithub(report, sink);
      return formatText(report, { color: false });
    }
  }
}

/**
 * `https://github.com/OWNER/REPO` from the variables the Actions runner sets
 * (`GITHUB_SERVER_URL`, `GITHUB_REPOSITORY`): the tool lives in the user's
 * repository, so that is where it is documented. Undefined outside Actions.
 */
export function informationUriFromEnv(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const repo = env.GITHUB_REPOSITORY;
  if (!repo || !/^[\w.-]+\/[\w.-]+$/.test(repo)) return undefined;
  const server = (env.GITHUB_SERVER_URL || "https://github.com").replace(/\/+$/, "");
  if (!/^https:\/\/[^\s/]+$/.test(server)) return undefined;
  return `${server}/${repo}`;
}

export { formatText, type TextOptions } from "./text.ts";
export { formatJson, toJsonReport, type JsonReport, type JsonFinding, type JsonNewsletter } from "./json.ts";
export { buildSarif, formatSarif, type SarifOptions } from "./sarif.ts";
export {
  emitGithub,
  githubSummary,
  type GithubSink,
  type AnnotationLevel,
  type AnnotationProps,
  type GithubEmitResult,
} from "./github.ts";
