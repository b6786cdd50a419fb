// Framework tabs (see _ext/framework_tabs.py): additions to sphinx-design's synced tabs.
//
// 1. The URL query: sphinx-design stores `?framework=<value>` verbatim as the chosen
//    tab, so `?framework=TensorFlow` selected nothing and `?framework=bogus` was kept in
//    localStorage. Before sphinx-design reads the URL (on DOMContentLoaded; this script
//    runs while the page loads), a name or label in any case becomes the framework's
//    sync id, and an unknown value is removed from the URL. A stored value that is no
//    framework (left by an older page) is dropped too.
// 2. Scroll anchoring: choosing a framework switches every tab-set of the page, and
//    the tab-sets above the clicked one change height, which moved the clicked label by
//    up to a hundred pixels. The label's offset from the top of the window is recorded
//    before sphinx-design syncs the other tab-sets (a capturing `change` listener, which
//    runs before sphinx-design's listener on the input itself) and restored after (a
//    bubbling listener, which runs after it). This covers mouse, touch and keyboard.
(() => {
  "use strict";
  const script = document.currentScript;
  const group = script.dataset.syncGroup;
  const ids = script.dataset.frameworks.split(" ");
  const labels = (script.dataset.labels || "").split("|");
  const prefix = script.dataset.storagePrefix ?? "sphinx-design-tab-id-"; // "": not stored

  // name or label, lower-cased -> sync id
  const known = new Map();
  ids.forEach((id, i) => {
    known.set(id.toLowerCase(), id);
    if (labels[i]) known.set(labels[i].toLowerCase(), id);
  });

  const url = new URL(window.location.href);
  if (url.searchParams.has(group)) {
    const id = known.get(url.searchParams.get(group).trim().toLowerCase());
    if (id) url.searchParams.set(group, id);
    else url.searchParams.delete(group);
    if (url.href !== window.location.href) {
      window.history.replaceState(window.history.state, "", url.href);
    }
  }
  try {
    const stored = prefix ? window.localStorage.getItem(prefix + group) : null;
    if (stored !== null && !ids.includes(stored)) window.localStorage.removeItem(prefix + group);
  } catch (err) {
    // storage unavailable (blocked site data): nothing stored, nothing to clean
  }

  /** The tab label of a framework tab's radio input, or null for any other input. */
  function frameworkLabel(target) {
    if (!(target instanceof HTMLInputElement) || !target.closest(".sd-tab-set")) return null;
    const label = target.nextElementSibling;
    return label instanceof HTMLElement && label.dataset.syncGroup === group ? label : null;
  }

  let anchor = null; // {label, top} while a change is being synced
  document.addEventListener("change", (event) => {
    const label = frameworkLabel(event.target);
    if (!label) return;
    anchor = { label, top: label.getBoundingClientRect().top };
    // the browser's own scroll anchoring would correct the same shift a second time
    document.documentElement.style.overflowAnchor = "none";
  }, true);
  document.addEventListener("change", (event) => {
    if (!anchor || frameworkLabel(event.target) !== anchor.label) return;
    const shift = anchor.label.getBoundingClientRect().top - anchor.top;
    if (Math.abs(shift) >= 1) window.scrollBy({ top: shift, behavior: "instant" });
    anchor = null;
    window.requestAnimationFrame(() => {
      document.documentElement.style.overflowAnchor = "";
    });
  });
})();
