// A YAML text area with line numbers: the gutter marks the lines that have an error (!) or a lint finding (?), and
// a finding's button moves the caret to its line. The numbers are decoration (aria-hidden): the findings are
// listed in words below, each naming its line.
import { h } from "./dom.js";

export class CodeBox {
  constructor(id, label) {
    this.marks = new Map(); // line -> "error" | "lint"
    this.gutter = h("pre", { class: "gutter", "aria-hidden": "true" });
    this.area = h("textarea", { id, class: "code", rows: 28, wrap: "off", spellcheck: "false", autocomplete: "off",
      "aria-describedby": `${id}-findings` });
    this.area.addEventListener("input", () => this.number());
    this.area.addEventListener("scroll", () => { this.gutter.scrollTop = this.area.scrollTop; });
    this.el = h("div", { class: "codebox" }, h("label", { for: id, class: "codebox-label" }, label),
      h("div", { class: "codebox-body" }, this.gutter, this.area));
  }

  get value() { return this.area.value; }

  set value(text) {
    this.area.value = text;
    this.number();
  }

  set readOnly(on) { this.area.readOnly = on; }

  mark(marks) {
    this.marks = marks;
    this.number();
  }

  number() {
    const count = this.area.value.split("\n").length;
    const rows = [];
    for (let i = 1; i <= count; i += 1) {
      const m = this.marks.get(i);
      rows.push(h("span", { class: m ? `ln ${m}` : "ln", "data-line": i }, `${m === "error" ? "!" : m === "lint" ? "?" : " "}${i}`), "\n");
    }
    this.gutter.replaceChildren(...rows);
    this.gutter.scrollTop = this.area.scrollTop;
  }

  // Put the caret at the start of ``line`` (1-based), select the line, and scroll it into view.
  goTo(line) {
    const lines = this.area.value.split("\n");
    const n = Math.min(Math.max(line, 1), lines.length);
    const start = lines.slice(0, n - 1).reduce((sum, l) => sum + l.length + 1, 0);
    this.area.focus();
    this.area.setSelectionRange(start, start + lines[n - 1].length);
    const lineHeight = parseFloat(getComputedStyle(this.area).lineHeight) || 20;
    this.area.scrollTop = Math.max(0, (n - 5) * lineHeight);
  }
}

// "draft.yaml:12: grants.1.zones: message" -> {line: 12, path, message}
export function parseLine(text) {
  const m = /^[^:]*:(\d+): (?:warning: )?([^:]*): (.*)$/s.exec(text);
  return m ? { line: Number(m[1]), path: m[2], message: m[3] } : { line: 0, path: "", message: text };
}
