// A line-level redline of two texts: the longest common subsequence of their lines (dynamic programming, fine for
// documents of a few hundred lines), as rows {kind: "same" | "del" | "ins", old, new, text}.

export function lineDiff(before, after) {
  const a = before.split("\n");
  const b = after.split("\n");
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const rows = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) { rows.push({ kind: "same", old: i + 1, new: j + 1, text: a[i] }); i += 1; j += 1; }
    else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) { rows.push({ kind: "del", old: i + 1, new: null, text: a[i] }); i += 1; }
    else { rows.push({ kind: "ins", old: null, new: j + 1, text: b[j] }); j += 1; }
  }
  return rows;
}

// The changed rows with ``context`` unchanged lines around each change; longer unchanged runs become one
// {kind: "skip", count} row (runs of one or two lines are kept).
export function hunks(rows, context = 3) {
  const near = rows.map(() => false);
  rows.forEach((r, k) => {
    if (r.kind === "same") return;
    for (let d = Math.max(0, k - context); d <= Math.min(rows.length - 1, k + context); d += 1) near[d] = true;
  });
  const out = [];
  let skipped = [];
  const flush = () => { // a run of one or two lines is shown: "… 1 unchanged line" would be as long
    out.push(...(skipped.length > 2 ? [{ kind: "skip", count: skipped.length }] : skipped));
    skipped = [];
  };
  rows.forEach((r, k) => {
    if (near[k]) {
      flush();
      out.push(r);
    } else skipped.push(r);
  });
  flush();
  return out;
}
