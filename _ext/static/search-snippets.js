// The search page's result snippets (Sphinx's searchtools.js) are the text of the found
// page, read from its HTML, where a formula is KaTeX's HTML plus MathML with the TeX as an
// annotation: its text is the formula three times over, the last in TeX ("\text{moving}
// \leftarrow ..."). Each formula is shown as an ellipsis instead.
(() => {
  "use strict";
  if (typeof Search === "undefined" || !Search.htmlToText) return;
  const pageText = Search.htmlToText;
  Search.htmlToText = (htmlString, anchor) => {
    const page = new DOMParser().parseFromString(htmlString, "text/html");
    page.querySelectorAll(".math").forEach((formula) => formula.replaceWith(" … "));
    return pageText(page.documentElement.outerHTML, anchor);
  };
})();
