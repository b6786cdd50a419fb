// The header's language switch (_ext/translation.py) opens the same page in the other
// language, in the same tab, keeping the query (?framework=...) and the section anchor.
document.addEventListener("DOMContentLoaded", () => {
  for (const link of document.querySelectorAll("a.btn-language-switch")) {
    link.removeAttribute("target");
    link.addEventListener("click", (event) => {
      const url = new URL(link.href, window.location.href);
      url.search = window.location.search;
      url.hash = window.location.hash;
      event.preventDefault();
      window.location.assign(url.href);
    });
  }
});
