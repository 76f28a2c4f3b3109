/**
 * `new <slug>`: creates newsletters/<today>-<slug>/ with a newsletter.yml and
 * a body.md that pass `check` as they are, bound to a list that exists, and
 * prints what to do next. It never overwrites: an existing folder is exit 2,
 * as is a slug that would not make a valid folder name. `today` is the
 * author's local date, the day they start writing.
 */
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../../errors.ts";
import { newsletterIdProblem, SUPPRESSION_LIST } from "../../load/schema/newsletter.ts";
import type { CliInput } from "../args.ts";
import type { Io } from "../../runtime/io.ts";

export async function runNewCommand(input: Extract<CliInput, { command: "new" }>, io: Io, now = new Date()): Promise<number> {
  const id = `${localDate(now)}-${input.slug}`;
  const problem = newsletterIdProblem(id);
  if (problem !== null) {
    throw new UsageError(`'${input.slug}' cannot be a newsletter slug: the folder name ${id} ${problem}. Use lowercase letters and digits in words joined by '-', e.g. winter-update`);
  }
  const dir = `newsletters/${id}`;
  const abs = path.join(input.root, dir);
  const list = await pickList(path.join(input.root, "recipients"));
  await mkdir(path.dirname(abs), { recursive: true });
  try {
    await mkdir(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new UsageError(`${dir} exists already: pick another slug, or edit the newsletter that is there`);
    throw e;
  }
  await writeFile(path.join(abs, "newsletter.yml"), newsletterYml(titleOf(input.slug), list.name), { flag: "wx" });
  await writeFile(path.join(abs, "body.md"), bodyMd(titleOf(input.slug)), { flag: "wx" });
  io.out(nextSteps(dir, id, list));
  return 0;
}

function localDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** `winter-update` → `Winter update`. */
function titleOf(slug: string): string {
  const words = slug.split("-").join(" ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** `customers` when recipients/customers.csv exists, else the first list there; `exists: false` when there is none. */
async function pickList(recipients: string): Promise<{ name: string; exists: boolean }> {
  let names: string[] = [];
  try {
    names = (await readdir(recipients, { withFileTypes: true }))
      .filter((e) => e.isFile() && e.name.endsWith(".csv") && e.name !== `${SUPPRESSION_LIST}.csv`)
      .map((e) => e.name.slice(0, -4))
      .sort();
  } catch {
    // No recipients/ folder: the next steps say to add the list.
  }
  const name = names.includes("customers") ? "customers" : (names[0] ?? "customers");
  return { name, exists: names.includes(name) };
}

function newsletterYml(title: string, list: string): string {
  return `# The newsletter's settings (README.md, "For authors: write a newsletter").
subject: "${title}"
recipients: ${list}            # the list recipients/${list}.csv
# preheader: "One line that mail clients show after the subject."
# send_after: "2026-12-24T09:00:00+09:00"   # not before this time
# expected_change: 0           # needed when the list grew or shrank by more than 10 % since its last send
`;
}

function bodyMd(title: string): string {
  return `# ${title}

Write the news here, in Markdown: headings, lists, **bold** and links (https only).

A column of the recipient's own row of the list goes in double braces, the column's name
inside. The unsubscribe link and the postal address are added below every message.
`;
}

function nextSteps(dir: string, id: string, list: { name: string; exists: boolean }): string {
  const missing = list.exists ? "" : `\nNo list recipients/${list.name}.csv exists yet: add it (a header row with an \`email\` column), or change \`recipients:\`.\n`;
  return `Created ${dir}/ with newsletter.yml (subject, recipients: ${list.name}) and body.md.
${missing}
Next:
  1. Write the subject in ${dir}/newsletter.yml and the text in ${dir}/body.md.
  2. Check it:    npm run -s newsletter -- check ${dir}
     Look at it:  npm run -s newsletter -- preview ${dir} --out ${id}.html
  3. Commit it on a branch of its own and open a pull request (one newsletter per pull request):
       git switch -c newsletter/${id} && git add ${dir} && git commit -m "Newsletter ${id}" && git push -u origin HEAD
     The checks run on it and the approvers receive the approval copy; after one approval per
     stage, merging the pull request sends it.
`;
}
