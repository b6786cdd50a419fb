// The header's language switch (_ext/translation.py) opens the same page in the other
// language, in the same tab, where the reader is: the section whose heading is the last
// one above the top of the window (section ids follow the English titles, so they are
// the same in both languages) and the framework chosen in the tabs, as ?framework=.
(() => {
  "use strict";
  const HEADER_ALLOWANCE = 96; // px: a heading just under the sticky header counts as read

  /** The id of the innermost section whose heading the reader has scrolled to. */
  function currentSection() {
    let found = null;
    for (const section of document.querySelectorAll("main section[id]")) {
      const heading = section.querySelector(":scope > h1, :scope > h2, :scope > h3, :scope > h4");
      if (heading && heading.getBoundingClientRect().top <= HEADER_ALLOWANCE) {
        found = heading.tagName === "H1" ? null : section.id;
      }
    }
    return found;
  }

  /** The framework of the page's tabs, or null on a page without framework tabs. */
  function currentFramework() {
    const checked = document.querySelector(".sd-tab-set.framework-tabs > input:checked");
    const label = checked && checked.nextElementSibling;
    return label && label.dataset.syncId ? label.dataset.syncId : null;
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const link of document.querySelectorAll("a.btn-language-switch")) {
      link.removeAttribute("target");
      link.addEventListener("click", (event) => {
        // a new tab or window (Ctrl-, Cmd-, Shift- or middle click) opens the link as it is
        if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey ||
            event.altKey) return;
        const url = new URL(link.href, window.location.href);
        url.search = window.location.search;
        const framework = currentFramework();
        if (framework) url.searchParams.set("framework", framework);
        const section = currentSection();
        url.hash = section ? `#${section}` : "";
        event.preventDefault();
        window.location.assign(url.href);
      });
    }
  });
})();
