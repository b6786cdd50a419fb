// Renders TeX to HTML with KaTeX for _ext/prerendered_math.py, one formula a line:
// reads {"tex": "...", "display": true|false} per line on stdin and answers each with
// {"html": "..."} or {"error": "..."} on one line of stdout, in order.
const katex = require("katex");
const readline = require("readline");

const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
  let answer;
  try {
    const { tex, display } = JSON.parse(line);
    answer = { html: katex.renderToString(tex, {
      displayMode: display, throwOnError: true, strict: "error", output: "htmlAndMathml" }) };
  } catch (error) {
    answer = { error: String(error.message || error) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
});
