/**
 * The incident's data, generated: a customer list of 13,011 addresses on
 * reserved domains (RFC 2606 / RFC 6761), deterministic, some customers with
 * Japanese names, and the ways the incident body held them. Shared by
 * test/incident.test.ts and bench/ (no randomness: the same bytes every run).
 */

export const INCIDENT_SIZE = 13_011;

/** Reserved domains only: example.com/.net/.org, *.example, *.test, *.invalid. */
export const RESERVED_DOMAINS = [
  "example.com",
  "example.net",
  "example.org",
  "shop.example",
  "mail.test",
  "customers.example",
  "jp.example.com",
  "members.invalid",
] as const;

const FAMILIES: ReadonlyArray<readonly [string, string]> = [
  ["yamada", "山田"], ["sato", "佐藤"], ["suzuki", "鈴木"], ["takahashi", "高橋"], ["tanaka", "田中"],
  ["watanabe", "渡辺"], ["ito", "伊藤"], ["nakamura", "中村"], ["kobayashi", "小林"], ["kato", "加藤"],
];
const GIVENS: ReadonlyArray<readonly [string, string]> = [
  ["taro", "太郎"], ["hanako", "花子"], ["yuki", "由紀"], ["kenji", "健二"], ["aiko", "愛子"],
  ["hiroshi", "博"], ["sakura", "さくら"], ["daisuke", "大輔"],
];
const LATIN: ReadonlyArray<readonly [string, string]> = [
  ["john", "smith"], ["amelie", "martin"], ["lucas", "garcia"], ["olivia", "brown"], ["noah", "muller"],
];
const PLANS = ["Free", "Business", "Enterprise"] as const;

export interface Customer {
  /** As written in the CSV (some mixed case, some with a `+tag`). */
  email: string;
  /** Lowercase: the normal form the checks use (all generated addresses are ASCII). */
  normalised: string;
  first_name: string;
  /** Full name; Japanese (`山田 太郎`) for about two in three customers. */
  name: string;
  plan: string;
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Customer `i` (0-based) of a generated list; distinct for every i. */
export function customer(i: number): Customer {
  const n = String(i + 1).padStart(5, "0");
  const domain = RESERVED_DOMAINS[i % RESERVED_DOMAINS.length]!;
  const plan = PLANS[i % PLANS.length]!;
  let local: string;
  let first_name: string;
  let name: string;
  if (i % 3 !== 2) {
    const [fr, fj] = FAMILIES[i % FAMILIES.length]!;
    const [gr, gj] = GIVENS[Math.floor(i / FAMILIES.length) % GIVENS.length]!;
    local = `${gr}.${fr}.${n}`;
    first_name = i % 2 === 0 ? gj : cap(gr);
    name = `${fj} ${gj}`;
  } else {
    const [g, f] = LATIN[i % LATIN.length]!;
    local = `${g}.${f}.${n}`;
    first_name = cap(g);
    name = `${cap(g)} ${cap(f)}`;
  }
  if (i % 50 === 7) local += "+news";
  let email = `${local}@${domain}`;
  // Some rows as people type them: mixed case. The checks compare lowercased.
  if (i % 97 === 13) email = `${cap(local)}@${domain.toUpperCase()}`;
  return { email, normalised: email.toLowerCase(), first_name, name, plan };
}

export function customers(count = INCIDENT_SIZE): Customer[] {
  return Array.from({ length: count }, (_, i) => customer(i));
}

/** `recipients/customers.csv`: `email,first_name,plan,name` (the sample's columns plus `name`). */
export function customersCsv(list: readonly Customer[]): string {
  const rows = ["email,first_name,plan,name"];
  for (const c of list) rows.push(`${c.email},${c.first_name},${c.plan},${c.name}`);
  return rows.join("\n") + "\n";
}

export interface IncidentBody {
  text: string;
  /** 1-based line of customer i's address, and its 1-based column. */
  lineOf: (i: number) => number;
  columnOf: (i: number) => number;
}

const PREAMBLE = ["# Hello {{ first_name }},", "", "Thank you for being one of our customers:", ""];

/** The incident body: every address, one a line, as pasted. */
export function plainListBody(list: readonly Customer[]): IncidentBody {
  const lines = [...PREAMBLE, ...list.map((c) => c.email), "", "Example Corp"];
  return { text: lines.join("\n") + "\n", lineOf: (i) => PREAMBLE.length + i + 1, columnOf: () => 1 };
}

/** The same as a Markdown table, with the Japanese names beside the addresses. */
export function tableBody(list: readonly Customer[]): IncidentBody {
  const head = [...PREAMBLE, "| 名前 | メールアドレス | プラン |", "| --- | --- | --- |"];
  const rows = list.map((c) => `| ${c.name} | ${c.email} | ${c.plan} |`);
  const lines = [...head, ...rows, "", "Example Corp"];
  return {
    text: lines.join("\n") + "\n",
    lineOf: (i) => head.length + i + 1,
    columnOf: (i) => rows[i]!.indexOf(list[i]!.email) + 1,
  };
}
