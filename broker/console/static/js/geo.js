// The map's projection: local equirectangular (one scale in x and y, so a radius is a circle), fitted to the
// points shown, and its exact inverse for picking a point. The Earth radius is the contract's (§3: haversine,
// R = 6,371,008.8 m); over a town the projection's error is far below a metre.

const R = 6371008.8;
const M_PER_DEG = (Math.PI * R) / 180;

// points: [{lat, lon}]; the box [x0, y0, width, height] in SVG units; minSpan: the least metres shown across.
export function fit(points, [x0, y0, width, height], minSpan = 60) {
  const lats = points.map((p) => p.lat);
  const lat0 = (Math.min(...lats) + Math.max(...lats)) / 2;
  const kx = M_PER_DEG * Math.cos((lat0 * Math.PI) / 180); // metres per degree of longitude at lat0
  const xs = points.map((p) => p.lon * kx);
  const ys = lats.map((lat) => lat * M_PER_DEG);
  const [mx, my] = [(Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2];
  const spanX = Math.max(Math.max(...xs) - Math.min(...xs), minSpan);
  const spanY = Math.max(Math.max(...ys) - Math.min(...ys), minSpan);
  const scale = Math.min(width / spanX, height / spanY); // SVG units per metre
  const [cx, cy] = [x0 + width / 2, y0 + height / 2];
  return {
    x: (lon) => cx + (lon * kx - mx) * scale,
    y: (lat) => cy - (lat * M_PER_DEG - my) * scale,
    lon: (x) => ((x - cx) / scale + mx) / kx,
    lat: (y) => (my - (y - cy) / scale) / M_PER_DEG,
    units: (metres) => metres * scale,
    box: [x0, y0, width, height],
  };
}

// A point in the SVG's own coordinates (its viewBox) from a mouse event.
export function svgPoint(root, event) {
  const p = root.createSVGPoint();
  p.x = event.clientX;
  p.y = event.clientY;
  return p.matrixTransform(root.getScreenCTM().inverse());
}

export const round6 = (v) => Math.round(v * 1e6) / 1e6; // 0.11 m of latitude
