// Server-sent events (GET /api/v1/events) when the broker offers them; else a slow poll. `onViewing`: told when a
// viewing session under an emergency starts or ends (`event: viewing`); the poll calls `handler(null)` only.
export function onEmergencyEvents(handler, { pollSeconds = 10, onViewing = null } = {}) {
  let timer = null;
  const poll = () => { timer = setInterval(() => handler(null), pollSeconds * 1000); };
  if (!("EventSource" in window) || sessionStorage.getItem("camgate.token")) {
    poll(); // EventSource cannot send a bearer header: development tokens poll instead
    return () => clearInterval(timer);
  }
  const source = new EventSource("/api/v1/events", { withCredentials: true });
  // Connected (or connected again): read afresh what changed while it was not, which no event will repeat.
  source.addEventListener("open", () => {
    document.documentElement.dataset.events = "live";
    handler(null);
  });
  source.addEventListener("emergency", (e) => {
    try { handler(JSON.parse(e.data)); } catch { handler(null); }
  });
  if (onViewing) {
    source.addEventListener("viewing", (e) => {
      try { onViewing(JSON.parse(e.data)); } catch { onViewing(null); }
    });
  }
  source.onerror = () => {
    document.documentElement.dataset.events = "down";
    if (source.readyState === EventSource.CLOSED && !timer) poll();
  };
  return () => { source.close(); clearInterval(timer); };
}
