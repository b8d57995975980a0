// Server-sent emergency events (GET /api/v1/events) when the broker offers them; else a slow poll.
export function onEmergencyEvents(handler, { pollSeconds = 10 } = {}) {
  let timer = null;
  const poll = () => { timer = setInterval(() => handler(null), pollSeconds * 1000); };
  if (!("EventSource" in window) || sessionStorage.getItem("camgate.token")) {
    poll(); // EventSource cannot send a bearer header: development tokens poll instead
    return () => clearInterval(timer);
  }
  const source = new EventSource("/api/v1/events", { withCredentials: true });
  source.addEventListener("emergency", (e) => {
    try { handler(JSON.parse(e.data)); } catch { handler(null); }
  });
  source.onerror = () => { if (source.readyState === EventSource.CLOSED && !timer) poll(); };
  return () => { source.close(); clearInterval(timer); };
}
