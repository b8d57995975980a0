// CSV for spreadsheets (RFC 4180: CRLF between records, a field with a comma, quote or line break in double
// quotes, quotes doubled), safe to open: a field starting with = + - @ tab or carriage return is prefixed with a
// single quote so that no spreadsheet runs it as a formula (OWASP "CSV Injection").

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(value) {
  let s = value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

// rows: arrays of values, the first the header. Ends with a CRLF, as RFC 4180 allows.
export function toCsv(rows) {
  return rows.map((row) => row.map(csvField).join(",")).join("\r\n") + "\r\n";
}

// Offer `text` as a download named `filename` (a blob: URL, revoked once the browser has it).
export function download(text, filename, type = "text/csv;charset=utf-8") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
