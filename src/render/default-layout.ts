/**
 * The default layout: a white 600 px card on a light grey page with a brand
 * colour bar, the logo (or the sender's name) on top, and the footer (sender,
 * postal address, contact, unsubscribe) below in small grey type. Fluid below
 * 600 px, dark colours when the reader's system asks for them, Japanese font
 * faces in the stack, images never wider than the card.
 *
 * Everything in the `<style>` is inlined at compile time (juice) except the
 * @media rules, which cannot be inlined; they hold no `content:` and no text.
 * See docs/design.md, "Layout and pictures".
 */

/** Latin faces first (their Latin glyphs are better), then Japanese faces per platform. */
export const FONT_STACK =
  "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, " +
  "'Hiragino Kaku Gothic ProN', 'Hiragino Sans', 'Noto Sans JP', 'Noto Sans CJK JP', Meiryo, 'Yu Gothic', sans-serif";

export const DEFAULT_LAYOUT = `<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<meta name="color-scheme" content="light dark">
<meta name="supported-color-schemes" content="light dark">
<style>
body { margin: 0; padding: 0; background-color: #f2f4f7; }
.nl-page { width: 100%; background-color: #f2f4f7; }
.nl-card { width: 100%; max-width: 600px; background-color: #ffffff; border-collapse: collapse; }
.nl-bar { height: 6px; font-size: 0; line-height: 0; background-color: {{ brand_color }}; }
.nl-head { padding: 24px 32px 8px 32px; font-family: ${FONT_STACK}; font-size: 18px; font-weight: bold; color: {{ brand_color }}; }
.nl-head img { display: block; max-width: 200px; height: auto; border: 0; }
.nl-content { padding: 8px 32px 24px 32px; font-family: ${FONT_STACK}; font-size: 16px; line-height: 1.7; color: #1f2328; word-break: break-word; overflow-wrap: anywhere; }
.nl-content h1 { font-size: 26px; line-height: 1.35; margin: 16px 0 12px 0; color: #111418; }
.nl-content h2 { font-size: 21px; line-height: 1.4; margin: 24px 0 8px 0; color: #111418; }
.nl-content h3 { font-size: 18px; line-height: 1.4; margin: 20px 0 8px 0; color: #111418; }
.nl-content p { margin: 0 0 16px 0; }
.nl-content ul, .nl-content ol { margin: 0 0 16px 0; padding-left: 24px; }
.nl-content a { color: {{ brand_color }}; text-decoration: underline; }
.nl-content img { max-width: 100%; height: auto; border: 0; }
.nl-content blockquote { margin: 0 0 16px 0; padding: 8px 16px; border-left: 4px solid {{ brand_color }}; background-color: #f6f8fa; color: #3d444d; }
.nl-content table { border-collapse: collapse; margin: 0 0 16px 0; max-width: 100%; }
.nl-content th, .nl-content td { border: 1px solid #d0d7de; padding: 6px 10px; text-align: left; }
.nl-content th { background-color: #f6f8fa; }
.nl-content code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 14px; background-color: #f6f8fa; padding: 1px 4px; }
.nl-content pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 14px; background-color: #f6f8fa; padding: 12px; overflow-x: auto; white-space: pre-wrap; }
.nl-content hr { border: 0; border-top: 1px solid #d0d7de; margin: 24px 0; }
.nl-foot { padding: 20px 32px 28px 32px; font-family: ${FONT_STACK}; font-size: 12px; line-height: 1.6; color: #59636e; background-color: #f6f8fa; border-top: 1px solid #d0d7de; }
.nl-foot a { color: #59636e; text-decoration: underline; }
.nl-foot p { margin: 0 0 4px 0; }
@media only screen and (max-width: 620px) {
  .nl-outer { padding: 0 !important; }
  .nl-head, .nl-content, .nl-foot { padding-left: 16px !important; padding-right: 16px !important; }
  .nl-content h1 { font-size: 22px !important; }
}
@media (prefers-color-scheme: dark) {
  body, .nl-page { background-color: #0d1117 !important; }
  .nl-card { background-color: #161b22 !important; }
  .nl-content, .nl-content h1, .nl-content h2, .nl-content h3 { color: #e6edf3 !important; }
  .nl-content blockquote, .nl-content th, .nl-content code, .nl-content pre { background-color: #21262d !important; color: #c9d1d9 !important; }
  .nl-content a { color: #58a6ff !important; }
  .nl-foot { background-color: #0d1117 !important; color: #9198a1 !important; border-top-color: #30363d !important; }
  .nl-foot a { color: #9198a1 !important; }
}
</style>
</head>
<body>
{{ preheader }}
<table role="presentation" class="nl-page" width="100%" cellpadding="0" cellspacing="0" border="0">
<tr><td class="nl-outer" align="center" style="padding: 24px 0;">
<table role="presentation" class="nl-card" width="600" cellpadding="0" cellspacing="0" border="0">
<tr><td class="nl-bar">&nbsp;</td></tr>
<tr><td class="nl-head">{{ logo }}</td></tr>
<tr><td class="nl-content">
{{ content }}
</td></tr>
<tr><td class="nl-foot">
{{ footer }}
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`;
