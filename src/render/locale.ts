/**
 * The words the tool itself writes into a message, per `sender.locale`: the
 * footer (the fields Japan's Act on Specified Electronic Mail, art. 4, asks
 * for: sender's name, postal address, a contact, and how to refuse further
 * mail) and the approval banner. See docs/design.md, "Layout and pictures".
 */

export type Locale = "en" | "ja";

export interface Words {
  sender: string;
  postalAddress: string;
  contact: string;
  /** Sentence before the unsubscribe link. */
  refuse: string;
  unsubscribe: string;
  /** Between a sentence and what follows it: a space in English, nothing in Japanese. */
  space: string;
  approvalCopy: string;
  /** Before an approval copy's subject. */
  approvalSubject: string;
  approvalIntro: (id: string) => string;
  approvalList: (list: string, count: number, suppressed: number, digest: string) => string;
  /** The suppression store's part of the count: `suppressed` already left out, `unmatched` entries only the send's key matches. */
  approvalStore: (suppressed: number, unmatched: number) => string;
  samples: string;
  domain: string;
  recipients: string;
  other: string;
}

const WORDS: Record<Locale, Words> = {
  en: {
    sender: "Sender",
    postalAddress: "Postal address",
    contact: "Contact",
    refuse: "You can stop receiving these emails at any time:",
    unsubscribe: "Unsubscribe",
    space: " ",
    approvalCopy: "APPROVAL COPY — not the real send.",
    approvalSubject: "[Approval copy]",
    approvalIntro: (id) =>
      `This is the production message of \`${id}\`, rendered by the same code for a sample recipient, sent to you for review.`,
    approvalList: (list, count, suppressed, digest) =>
      `List **${list}**: **${count}** recipients, ${suppressed} suppressed. Digest \`${digest}\` — approve only if the pull request shows the same digest.`,
    approvalStore: (suppressed, unmatched) =>
      `The suppression store removes ${suppressed} of them (already left out of the count above)` +
      (unmatched > 0 ? `; ${unmatched} of its entries are fingerprints only the send's key matches, so the send may leave out up to ${unmatched} more.` : "."),
    samples: "Samples",
    domain: "domain",
    recipients: "recipients",
    other: "(other)",
  },
  ja: {
    sender: "送信者",
    postalAddress: "住所",
    contact: "お問い合わせ",
    refuse: "今後このメールの受信を希望されない場合は、こちらから配信を停止できます：",
    unsubscribe: "配信停止",
    space: "",
    approvalCopy: "承認用コピー — 本番の配信ではありません。",
    approvalSubject: "［承認用コピー］",
    approvalIntro: (id) =>
      `これは \`${id}\` の本番メッセージを、同じコードでサンプルの宛先に対して組み立てたもので、確認のためにお送りしています。`,
    approvalList: (list, count, suppressed, digest) =>
      `リスト **${list}**：宛先 **${count}** 件、配信停止により除外 ${suppressed} 件。ダイジェスト \`${digest}\` — プルリクエストに同じダイジェストが表示されている場合のみ承認してください。`,
    approvalStore: (suppressed, unmatched) =>
      `うち ${suppressed} 件は配信停止ストアにより除外済みです（上の件数に反映済み）` +
      (unmatched > 0 ? `。ストアの ${unmatched} 件は本番の鍵でしか照合できない指紋のため、本番の配信ではさらに最大 ${unmatched} 件が除外されることがあります。` : "。"),
    samples: "サンプル",
    domain: "ドメイン",
    recipients: "宛先数",
    other: "（その他）",
  },
};

export function wordsFor(locale: Locale | undefined): Words {
  return WORDS[locale ?? "en"];
}
