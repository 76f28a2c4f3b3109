/**
 * Named HTML character references, decoded as a browser decodes them in text:
 * the `entities` package's full WHATWG table (HTML §13.5, every name) run by its
 * tokenizer for the named character reference state (HTML §13.2.5.73) in text
 * ("legacy") mode. So `&commat;` is `@`, a legacy name needs no `;` (`&amp`,
 * `&nbsp`, `&eacute`), the longest name wins (`&notin;` is ∉, `&notit;` is ¬
 * then `it;`), and a name without `;` that is not a legacy one (`taro&commat`)
 * stays as written, as a browser shows it. No entity is left out, so none can
 * hide an address character (docs/design.md, "Address detection").
 *
 * Numeric references are not decoded here: decode.ts keeps its own rule for
 * them, which accepts leading zeros without limit (`&#x0000040;` is `@`) and
 * leaves a zero, a surrogate or an out-of-range value as written.
 */
import { DecodingMode, EntityDecoder, htmlDecodeTree } from "entities/decode";

export interface NamedReference {
  /** The decoded text: one or two code points. */
  value: string;
  /** How many characters the reference takes, from its `&`. */
  length: number;
}

let value = "";
let length = 0;
const decoder = new EntityDecoder(htmlDecodeTree, (cp, consumed) => {
  value += String.fromCodePoint(cp);
  length = consumed;
});

/** The named reference whose `&` is `text[at]`, or undefined when a browser would show the `&` as it is. */
export function namedReferenceAt(text: string, at: number): NamedReference | undefined {
  value = "";
  length = 0;
  decoder.startEntity(DecodingMode.Legacy);
  // -1: the text ended inside a possible name; end() settles on the longest name read.
  if (decoder.write(text, at + 1) < 0) decoder.end();
  return length > 0 ? { value, length } : undefined;
}
