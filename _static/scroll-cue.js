// Scroll cue: a box whose content is wider than the box (a printed table, a long code
// line, a wide equation or table) scrolls sideways, but touch screens hide scroll bars,
// so it looked complete. Such a box gets the class scroll-cue-right while more content
// is hidden on its right, and scroll-cue-left while some is hidden on its left;
// site.css fades the box out at that edge. Boxes are measured when the page is ready,
// when its fonts have loaded (they change the widths of code and formulas), when they
// change size (a tab or a collapsed solution opened, the window resized) and when they
// scroll.
(() => {
  "use strict";
  const BOXES = "div.highlight > pre, div.math > .katex-display, .pst-scrollable-table-container";

  function update(box) {
    const hidden = box.scrollWidth - box.clientWidth; // 0 unless it overflows
    box.classList.toggle("scroll-cue-left", hidden > 1 && box.scrollLeft > 1);
    box.classList.toggle("scroll-cue-right", hidden > 1 && box.scrollLeft < hidden - 1);
  }

  const resized = new ResizeObserver((entries) => entries.forEach((e) => update(e.target)));
  function watch() {
    document.querySelectorAll(BOXES).forEach((box) => {
      update(box);
      resized.observe(box); // observing twice is harmless
    });
  }

  document.addEventListener("scroll", (event) => {
    if (event.target instanceof Element && event.target.matches(BOXES)) update(event.target);
  }, { capture: true, passive: true }); // scroll events do not bubble; capture sees them

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();
  window.addEventListener("load", watch);
  document.fonts.ready.then(watch);
})();
