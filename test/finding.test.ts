/**
 * One finding constructor (findings/finding.ts): every check builds its findings
 * through `finding()`, so the severity comes from the rule catalogue unless a
 * caller names another, and a finding carries exactly its six fields.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { FILE_START, finding, type Position, type Severity } from "../src/findings/finding.ts";
import { RULES, type RuleId } from "../src/findings/rules.ts";

describe("finding()", () => {
  const at: Position = { line: 3, column: 7 };
  const cases: { name: string; rule: RuleId; at: Position; severity?: Severity; expected: Severity }[] = [
    { name: "an error rule keeps its severity", rule: "schema", at, expected: "error" },
    { name: "a warning rule keeps its severity", rule: "list-in-git", at, expected: "warning" },
    { name: "a note rule keeps its severity", rule: "findings-capped", at, expected: "note" },
    { name: "a caller may raise a rule's severity", rule: "list-in-git", at, severity: "error", expected: "error" },
    { name: "a caller may lower one", rule: "yaml-syntax", at: FILE_START, severity: "warning", expected: "warning" },
  ];
  it.each(cases)("$name", ({ rule, at: pos, severity, expected }) => {
    expect(RULES[rule]).toBeDefined();
    expect(finding(rule, "newsletters/x/body.md", pos, "why", severity)).toEqual({
      rule,
      severity: expected,
      file: "newsletters/x/body.md",
      line: pos.line,
      column: pos.column,
      message: "why",
    });
  });
  it("copies only line and column from a richer position", () => {
    const richer = { line: 2, column: 1, row: 9, masked: "a…@example.com" };
    expect(Object.keys(finding("list-field-unclean", "recipients/a.csv", richer, "m"))).toEqual(["rule", "severity", "file", "line", "column", "message"]);
  });
});

/**
 * An object literal with both `rule` and `severity` outside findings/ is a second
 * way to build a finding. report/ is left out: it writes findings out (SARIF, JSON), it does not make them.
 */
function literalFindings(srcDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) {
        if (!["findings", "report"].includes(path.relative(srcDir, p))) walk(p);
      } else if (d.name.endsWith(".ts")) {
        const sf = ts.createSourceFile(p, readFileSync(p, "utf8"), ts.ScriptTarget.Latest, true);
        const visit = (n: ts.Node): void => {
          if (ts.isObjectLiteralExpression(n)) {
            const names = n.properties.map((q) => (q.name && ts.isIdentifier(q.name) ? q.name.text : ""));
            if (names.includes("rule") && names.includes("severity")) {
              out.push(`${path.relative(srcDir, p)}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`);
            }
          }
          ts.forEachChild(n, visit);
        };
        visit(sf);
      }
    }
  };
  walk(srcDir);
  return out;
}

describe("the one constructor", () => {
  it("no module outside findings/ builds a finding as an object literal", () => {
    expect(literalFindings(fileURLToPath(new URL("../src", import.meta.url)))).toEqual([]);
  });
});
