/**
 * A text input (YAML, Markdown) as a string, or the finding that says why it
 * is not UTF-8 and where. A leading BOM is dropped (editors on Windows add one).
 */
import { finding, type Finding } from "../findings/finding.ts";
import { firstInvalidUtf8 } from "./csv.ts";

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export function decodeTextFile(file: string, bytes: Uint8Array): { text: string } | { finding: Finding } {
  try {
    return { text: decoder.decode(bytes) };
  } catch {
    const { index } = firstInvalidUtf8(bytes);
    // Lines break at LF, CRLF and a lone CR, as editors (and the CSV reader) count them.
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < index; i++) {
      const b = bytes[i];
      if (b === 0x0a || (b === 0x0d && bytes[i + 1] !== 0x0a)) {
        line++;
        lineStart = i + 1;
      }
    }
    // Columns count UTF-16 code units as every other finding does, not bytes:
    // the valid text before the bad byte on its line, decoded (a BOM is no column).
    const column = new TextDecoder("utf-8", { ignoreBOM: false }).decode(bytes.subarray(lineStart, index)).length + 1;
    const message = `${file} is not valid UTF-8 (first bad byte at line ${line}); save it as UTF-8 — a Shift_JIS or Latin-1 file is not read`;
    return { finding: finding("input-encoding", file, { line, column }, message) };
  }
}
