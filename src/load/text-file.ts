/**
 * A text input (YAML, Markdown) as a string, or the finding that says why it
 * is not UTF-8 and where. A leading BOM is dropped (editors on Windows add one).
 */
import type { Finding } from "../check/finding.ts";
import { RULES } from "../check/rules.ts";
import { firstInvalidUtf8 } from "./csv.ts";

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export function decodeTextFile(file: string, bytes: Uint8Array): { text: string } | { finding: Finding } {
  try {
    return { text: decoder.decode(bytes) };
  } catch {
    const { index } = firstInvalidUtf8(bytes);
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < index; i++) {
      if (bytes[i] === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    return {
      finding: {
        rule: "input-encoding",
        severity: RULES["input-encoding"].severity,
        file,
        line,
        column: index - lineStart + 1,
        message: `${file} is not valid UTF-8 (first bad byte at line ${line}); save it as UTF-8 — a Shift_JIS or Latin-1 file is not read`,
      },
    };
  }
}
