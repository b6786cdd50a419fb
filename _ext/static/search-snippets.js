// The search page's result snippets (Sphinx's searchtools.js) are the text of the found
// page, read from its HTML, where formulas are still TeX (MathJax typesets them only in
// the page itself): a snippet showed "\[ \text{moving} \leftarrow ...". Each formula is
// shown as an ellipsis instead.
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
