/**
 * The GitHub sink on @actions/core: annotations as workflow commands on
 * stdout (`::error file=…,line=…,col=…,title=…::message`; core escapes `%`,
 * CR and LF in the message, and also `:` and `,` in the properties), and the
 * job summary appended to the file named by GITHUB_STEP_SUMMARY.
 *
 * The one place in src/report that touches the process: @actions/core writes
 * to process.stdout and reads GITHUB_STEP_SUMMARY from process.env. Without
 * that variable (a local run) the summary is skipped silently; a summary file
 * that is set but cannot be written rejects. (core.summary is a process-wide
 * singleton that remembers the first summary path it wrote to.)
 */
import * as core from "@actions/core";
import type { AnnotationLevel, AnnotationProps, GithubSink } from "./github.ts";

export function githubActionsSink(): GithubSink {
  return {
    annotate(level: AnnotationLevel, message: string, props: AnnotationProps): void {
      const properties: core.AnnotationProperties = {
        title: props.title,
        startLine: props.startLine,
        startColumn: props.startColumn,
      };
      if (props.file !== "") properties.file = props.file;
      if (level === "error") core.error(message, properties);
      else if (level === "warning") core.warning(message, properties);
      else core.notice(message, properties);
    },
    async summary(markdown: string): Promise<void> {
      if (!process.env.GITHUB_STEP_SUMMARY) return;
      try {
        await core.summary.addRaw(markdown, true).write();
      } finally {
        core.summary.emptyBuffer();
      }
    },
  };
}
