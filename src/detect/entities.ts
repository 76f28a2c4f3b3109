/**
 * The named HTML character references that matter for finding addresses
 * (WHATWG HTML §13.5, "Named character references"): the ones that spell
 * `@` and `.`, the ASCII punctuation used in addresses and in obfuscations
 * such as `&lsqb;at&rsqb;`, the five XML ones, and the invisible characters
 * that hide inside an address (dropped later as Default_Ignorable). Entities
 * outside this table cannot produce an address character, so leaving them
 * undecoded loses nothing.
 */
export const NAMED_ENTITIES: ReadonlyMap<string, string> = new Map([
  ["amp", "&"],
  ["lt", "<"],
  ["gt", ">"],
  ["quot", '"'],
  ["apos", "'"],
  ["nbsp", "\u00a0"],
  ["commat", "@"],
  ["period", "."],
  ["lowbar", "_"],
  ["UnderBar", "_"],
  ["hyphen", "\u2010"],
  ["dash", "\u2010"],
  ["plus", "+"],
  ["equals", "="],
  ["excl", "!"],
  ["num", "#"],
  ["dollar", "$"],
  ["percnt", "%"],
  ["ast", "*"],
  ["midast", "*"],
  ["sol", "/"],
  ["bsol", "\\"],
  ["colon", ":"],
  ["semi", ";"],
  ["comma", ","],
  ["quest", "?"],
  ["Hat", "^"],
  ["grave", "`"],
  ["DiacriticalGrave", "`"],
  ["verbar", "|"],
  ["vert", "|"],
  ["VerticalLine", "|"],
  ["lpar", "("],
  ["rpar", ")"],
  ["lsqb", "["],
  ["lbrack", "["],
  ["rsqb", "]"],
  ["rbrack", "]"],
  ["lcub", "{"],
  ["lbrace", "{"],
  ["rcub", "}"],
  ["rbrace", "}"],
  ["shy", "\u00ad"],
  ["zwj", "\u200d"],
  ["zwnj", "\u200c"],
  ["ZeroWidthSpace", "\u200b"],
  ["NegativeVeryThinSpace", "\u200b"],
  ["NegativeThinSpace", "\u200b"],
  ["NegativeMediumSpace", "\u200b"],
  ["NegativeThickSpace", "\u200b"],
  ["NoBreak", "\u2060"],
  ["af", "\u2061"],
  ["ApplyFunction", "\u2061"],
  ["it", "\u2062"],
  ["InvisibleTimes", "\u2062"],
  ["ic", "\u2063"],
  ["InvisibleComma", "\u2063"],
  ["lrm", "\u200e"],
  ["rlm", "\u200f"],
]);

/**
 * Legacy references that HTML parsers also decode without the `;`
 * (WHATWG HTML §13.2.5.73): a sloppy `taro&commat` is not one of them, but
 * `&amp` and `&nbsp` are.
 */
export const SEMICOLON_OPTIONAL: ReadonlySet<string> = new Set(["amp", "lt", "gt", "quot", "nbsp"]);
