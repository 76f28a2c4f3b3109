/**
 * The unsubscribe pages, in Japanese and English. The confirmation page's
 * button posts `List-Unsubscribe=One-Click` to the URL the page was loaded
 * from (an empty form action), exactly the request a mail client makes.
 * The pages hold no address: the endpoint never knows one.
 */
import { escapeHtml } from "../render/escape.ts";

export type Lang = "ja" | "en";
export type PageKind = "confirm" | "done" | "invalid" | "not-found";

const TEXT: Record<Lang, Record<PageKind, { title: string; body: string; button?: string }>> = {
  en: {
    confirm: { title: "Unsubscribe", body: "Do you want to stop receiving this newsletter?", button: "Unsubscribe" },
    done: { title: "You are unsubscribed", body: "You will not receive this newsletter any more. Mail already on its way may still arrive for up to two days." },
    invalid: { title: "This link is not valid", body: "The unsubscribe link is incomplete or was changed. Use the link from the newsletter itself." },
    "not-found": { title: "Not found", body: "There is nothing here." },
  },
  ja: {
    confirm: { title: "配信停止", body: "このニュースレターの配信を停止しますか？", button: "配信を停止する" },
    done: { title: "配信を停止しました", body: "今後このニュースレターは届きません。すでに送信処理中のメールが、最大2日間届くことがあります。" },
    invalid: { title: "このリンクは無効です", body: "配信停止のリンクが不完全か、変更されています。ニュースレターに記載のリンクをご利用ください。" },
    "not-found": { title: "見つかりません", body: "このページはありません。" },
  },
};

export function confirmationPage(kind: PageKind, lang: Lang): string {
  const t = TEXT[lang][kind];
  const form = t.button
    ? `<form method="post" action=""><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">${escapeHtml(t.button)}</button></form>`
    : "";
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(t.title)}</title>
<style>
body { font-family: system-ui, "Noto Sans CJK JP", sans-serif; background: #f5f5f4; color: #1c1917; margin: 0; }
main { max-width: 28rem; margin: 15vh auto; background: #fff; padding: 2rem; border-radius: 0.5rem; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
h1 { font-size: 1.4rem; margin: 0 0 1rem; }
p { line-height: 1.6; }
button { font: inherit; font-size: 1rem; padding: 0.6rem 1.4rem; border: 0; border-radius: 0.4rem; background: #b91c1c; color: #fff; cursor: pointer; }
</style>
</head>
<body>
<main>
<h1>${escapeHtml(t.title)}</h1>
<p>${escapeHtml(t.body)}</p>
${form}
</main>
</body>
</html>
`;
}
