// Trims stylesheets to the selectors the site uses, for _ext/trimmed_assets.py.
// Reads one JSON object on stdin: {"css": [paths], "content": [paths of HTML and JS]};
// rewrites each stylesheet in place (a sibling ".part" file renamed over it) and prints
// {"sizes": {path: [before, after]}}.
const fs = require("fs");
const { PurgeCSS } = require("purgecss");

async function main() {
  const request = JSON.parse(fs.readFileSync(0, "utf-8"));
  const results = await new PurgeCSS().purge({
    content: request.content,
    css: request.css,
    // Keep every @font-face, @keyframes and custom property: the browser fetches only
    // the fonts a page uses, and variables may be read by scripts.
    fontFace: false, keyframes: false, variables: false,
    // Names that no page or script spells out whole: Bootstrap builds its tooltips' class
    // from a template (`bs-${NAME}-auto`) and Popper sets the placement attributes.
    safelist: { greedy: [/bs-(tooltip|popover)-/, /data-popper-placement/, /data-bs-popper/] },
  });
  const sizes = {};
  for (const { file, css } of results) {
    sizes[file] = [fs.statSync(file).size, Buffer.byteLength(css)];
    fs.writeFileSync(file + ".part", css);
    fs.renameSync(file + ".part", file);
  }
  process.stdout.write(JSON.stringify({ sizes }) + "\n");
}

main().catch((error) => {
  process.stderr.write(`purge_css: ${error.stack || error}\n`);
  process.exit(1);
});
