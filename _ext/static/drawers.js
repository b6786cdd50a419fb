// The phone's drawers (pydata-sphinx-theme shows the sidebars in <dialog>s on narrow
// screens) stay open over the page when the reader taps one of their links to a place on
// the same page. Close the drawer on any link, so the reader sees where it leads.
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
  const drawer = link ? link.closest("dialog[open]") : null;
  if (drawer && drawer.id !== "pst-search-dialog") drawer.close();
});
